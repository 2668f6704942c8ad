from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_plan_changes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Business',
            name='portal_return_url',
            field=fields.CharField(null=True, max_length=2000),
        ),
    ]
