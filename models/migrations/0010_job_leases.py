from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_return_links')]

    initial = False

    operations = [
        ops.CreateModel(
            name='JobLease',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=100)),
                ('owner', fields.CharField(max_length=40)),
                ('claimed_until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'job_lease', 'app': 'models', 'pk_attr': 'name'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='claim_token',
            field=fields.CharField(null=True, max_length=40),
        ),
    ]
