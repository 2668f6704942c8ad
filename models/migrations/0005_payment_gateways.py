from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import Mode, new_cst_id, new_gwc_id
from models.billing import PaymentStatus
from models.clock import now
from models.payments import GatewayProvider
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_outbox_tasks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CardSetup',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_cst_id, unique=True, db_index=True, max_length=40)),
                ('business', fields.ForeignKeyField('models.Business', source_field='business_id', db_constraint=True, to_field='id', related_name='card_setups', on_delete=OnDelete.CASCADE)),
                ('mode', fields.CharEnumField(description='TEST: test\nLIVE: live', enum_type=Mode, max_length=4)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='card_setups', on_delete=OnDelete.CASCADE)),
                ('gateway_setup', fields.CharField(max_length=255)),
                ('gateway_payment_method', fields.CharField(max_length=255)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'card_setup', 'app': 'models', 'indexes': [Index(fields=['business_id', 'mode', 'customer_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GatewayEvent',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('business', fields.ForeignKeyField('models.Business', source_field='business_id', db_constraint=True, to_field='id', related_name='gateway_events', on_delete=OnDelete.CASCADE)),
                ('mode', fields.CharEnumField(description='TEST: test\nLIVE: live', enum_type=Mode, max_length=4)),
                ('type', fields.CharField(max_length=100)),
                ('received_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'gateway_event', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PaymentGatewayConfig',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_gwc_id, unique=True, db_index=True, max_length=40)),
                ('business', fields.ForeignKeyField('models.Business', source_field='business_id', db_constraint=True, to_field='id', related_name='gateway_configs', on_delete=OnDelete.CASCADE)),
                ('mode', fields.CharEnumField(description='TEST: test\nLIVE: live', enum_type=Mode, max_length=4)),
                ('provider', fields.CharEnumField(description='TEST: test\nSTRIPE: stripe', enum_type=GatewayProvider, max_length=8)),
                ('secret_key', fields.CharField(null=True, max_length=500)),
                ('publishable_key', fields.CharField(null=True, max_length=255)),
                ('webhook_secret', fields.CharField(null=True, max_length=500)),
                ('configured_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'payment_gateway_config', 'app': 'models', 'unique_together': (('business_id', 'mode'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Customer',
            name='gateway_customer',
            field=fields.CharField(null=True, max_length=255),
        ),
        ops.AlterField(
            model_name='Payment',
            name='status',
            field=fields.CharEnumField(description='SUCCEEDED: succeeded\nFAILED: failed\nPROCESSING: processing\nREQUIRES_CUSTOMER_ACTION: requires_customer_action\nREQUIRES_ACTION: requires_action\nCANCELLED: cancelled', enum_type=PaymentStatus, max_length=24),
        ),
        ops.AddField(
            model_name='Payment',
            name='gateway_payment_method',
            field=fields.CharField(null=True, max_length=255),
        ),
        ops.AddField(
            model_name='Payment',
            name='off_session',
            field=fields.BooleanField(default=False),
        ),
    ]
