from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import Mode
from models.billing import SubscriptionStatus
from models.clock import now
from models.portal_settings import CustomerCancellation
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_invoicing_tax')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PortalSettings',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('business', fields.ForeignKeyField('models.Business', source_field='business_id', db_constraint=True, to_field='id', related_name='portal_settings', on_delete=OnDelete.CASCADE)),
                ('mode', fields.CharEnumField(description='TEST: test\nLIVE: live', enum_type=Mode, max_length=4)),
                ('customer_cancellation', fields.CharEnumField(default=CustomerCancellation.NOW, description='NOW: now\nAT_PERIOD_END: at_period_end\nNOT_ALLOWED: not_allowed', enum_type=CustomerCancellation, max_length=13)),
                ('customer_pause', fields.BooleanField(default=False)),
                ('customer_change_plan', fields.BooleanField(default=False)),
                ('customer_update_payment_methods', fields.BooleanField(default=True)),
                ('customer_edit_profile', fields.BooleanField(default=True)),
                ('customer_view_invoices', fields.BooleanField(default=True)),
                ('customer_restart', fields.BooleanField(default=False)),
                ('multiple_subscriptions_per_product', fields.BooleanField(default=True)),
                ('updated_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'portal_settings', 'app': 'models', 'unique_together': (('business_id', 'mode'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Subscription',
            name='status',
            field=fields.CharEnumField(description='PENDING: pending\nACTIVE: active\nON_HOLD: on_hold\nPAUSED: paused\nCANCELLED: cancelled\nFAILED: failed\nEXPIRED: expired', enum_type=SubscriptionStatus, max_length=10),
        ),
        ops.AddField(
            model_name='Subscription',
            name='pause_at_next_billing_date',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Subscription',
            name='paused_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Subscription',
            name='resume_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
