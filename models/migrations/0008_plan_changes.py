from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import Mode, new_pch_id, new_plf_id
from models.clock import now
from models.plans import PlanChangeKind, PlanChangeStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_portal_settings')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PlanChange',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_pch_id, unique=True, db_index=True, max_length=40)),
                ('business', fields.ForeignKeyField('models.Business', source_field='business_id', db_constraint=True, to_field='id', related_name='plan_changes', on_delete=OnDelete.CASCADE)),
                ('mode', fields.CharEnumField(description='TEST: test\nLIVE: live', enum_type=Mode, max_length=4)),
                ('subscription', fields.ForeignKeyField('models.Subscription', source_field='subscription_id', db_constraint=True, to_field='id', related_name='plan_changes', on_delete=OnDelete.CASCADE)),
                ('customer_id', fields.CharField(max_length=40)),
                ('kind', fields.CharEnumField(description='UPGRADE: upgrade\nDOWNGRADE: downgrade', enum_type=PlanChangeKind, max_length=9)),
                ('status', fields.CharEnumField(description='PENDING: pending\nSCHEDULED: scheduled\nAPPLIED: applied\nCANCELLED: cancelled\nFAILED: failed', enum_type=PlanChangeStatus, max_length=9)),
                ('from_product_id', fields.CharField(max_length=40)),
                ('to_product_id', fields.CharField(max_length=40)),
                ('effective_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('requested_by_customer', fields.BooleanField(default=False)),
                ('credit_amount', fields.BigIntField(default=0)),
                ('charge_amount', fields.BigIntField(default=0)),
                ('currency', fields.CharField(max_length=3)),
                ('invoice_id', fields.CharField(null=True, max_length=40)),
                ('payment_id', fields.CharField(null=True, max_length=40)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('applied_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'plan_change', 'app': 'models', 'indexes': [Index(fields=['subscription_id', 'status']), Index(fields=['payment_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PlanFamily',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_plf_id, unique=True, db_index=True, max_length=40)),
                ('business', fields.ForeignKeyField('models.Business', source_field='business_id', db_constraint=True, to_field='id', related_name='plan_families', on_delete=OnDelete.CASCADE)),
                ('mode', fields.CharEnumField(description='TEST: test\nLIVE: live', enum_type=Mode, max_length=4)),
                ('name', fields.CharField(max_length=200)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'plan_family', 'app': 'models', 'indexes': [Index(fields=['business_id', 'mode', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Product',
            name='plan_family',
            field=fields.ForeignKeyField('models.PlanFamily', source_field='plan_family_id', null=True, db_constraint=True, to_field='id', related_name='products', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='Subscription',
            name='scheduled_plan_change_id',
            field=fields.CharField(null=True, max_length=40),
        ),
    ]
