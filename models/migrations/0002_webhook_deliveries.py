from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import new_whd_id
from models.webhooks import WebhookDeliveryStatus, WebhookDisabledReason
from models.clock import now
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_whd_id, unique=True, db_index=True, max_length=40)),
                ('event', fields.ForeignKeyField('models.WebhookEvent', source_field='event_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('endpoint', fields.ForeignKeyField('models.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=WebhookDeliveryStatus.PENDING, description='PENDING: pending\nSUCCEEDED: succeeded\nFAILED: failed\nCANCELLED: cancelled', enum_type=WebhookDeliveryStatus, max_length=10)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claim_token', fields.CharField(null=True, max_length=40)),
                ('last_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_response_status', fields.IntField(null=True)),
                ('last_error', fields.CharField(null=True, max_length=500)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at']), Index(fields=['event_id', 'created_at']), Index(fields=['endpoint_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='WebhookAttempt',
            name='delivery',
            field=fields.ForeignKeyField('models.WebhookDelivery', source_field='delivery_id', null=True, db_constraint=True, to_field='id', related_name='attempt_log', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='WebhookEndpoint',
            name='disabled_reason',
            field=fields.CharEnumField(null=True, description='MANUAL: manual\nGONE: gone\nFAILING: failing', enum_type=WebhookDisabledReason, max_length=8),
        ),
    ]
