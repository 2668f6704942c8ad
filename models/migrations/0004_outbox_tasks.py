from tortoise import migrations
from tortoise.migrations import operations as ops
from models.infra import OutboxKind
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_payment_product')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='OutboxMessage',
            name='kind',
            field=fields.CharEnumField(description='EMAIL: email\nWEBHOOK: webhook\nTASK: task', enum_type=OutboxKind, max_length=8),
        ),
    ]
