from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_webhook_deliveries')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Payment',
            name='product',
            field=fields.ForeignKeyField('models.Product', source_field='product_id', null=True, db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.CASCADE),
        ),
    ]
