from tortoise import migrations
from tortoise.migrations import operations as ops
from models.base import Mode, new_ref_id
from models.billing import InvoiceKind, RefundStatus
from models.catalog import TaxCategory
from models.clock import now
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_payment_gateways')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CreditNoteCounter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('business', fields.ForeignKeyField('models.Business', source_field='business_id', db_constraint=True, to_field='id', related_name='credit_note_counters', on_delete=OnDelete.CASCADE)),
                ('mode', fields.CharEnumField(description='TEST: test\nLIVE: live', enum_type=Mode, max_length=4)),
                ('last_number', fields.BigIntField(default=0)),
            ],
            options={'table': 'credit_note_counter', 'app': 'models', 'unique_together': (('business_id', 'mode'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Refund',
            fields=[
                ('id', fields.CharField(primary_key=True, default=new_ref_id, unique=True, db_index=True, max_length=40)),
                ('business', fields.ForeignKeyField('models.Business', source_field='business_id', db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.CASCADE)),
                ('mode', fields.CharEnumField(description='TEST: test\nLIVE: live', enum_type=Mode, max_length=4)),
                ('payment', fields.ForeignKeyField('models.Payment', source_field='payment_id', db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.CASCADE)),
                ('customer_id', fields.CharField(max_length=40)),
                ('amount', fields.BigIntField()),
                ('currency', fields.CharField(max_length=3)),
                ('status', fields.CharEnumField(description='SUCCEEDED: succeeded\nFAILED: failed\nPENDING: pending', enum_type=RefundStatus, max_length=9)),
                ('reason', fields.CharField(null=True, max_length=300)),
                ('gateway_reference', fields.CharField(null=True, max_length=200)),
                ('failure_message', fields.CharField(null=True, max_length=300)),
                ('credit_note', fields.ForeignKeyField('models.Invoice', source_field='credit_note_id', null=True, db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'refund', 'app': 'models', 'indexes': [Index(fields=['business_id', 'mode', 'created_at']), Index(fields=['payment_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Business',
            name='address_line1',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Business',
            name='address_line2',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Business',
            name='city',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='Business',
            name='country',
            field=fields.CharField(null=True, max_length=2),
        ),
        ops.AddField(
            model_name='Business',
            name='legal_name',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Business',
            name='phone',
            field=fields.CharField(null=True, max_length=40),
        ),
        ops.AddField(
            model_name='Business',
            name='postal_code',
            field=fields.CharField(null=True, max_length=20),
        ),
        ops.AddField(
            model_name='Business',
            name='prices_include_tax',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Business',
            name='registration',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Business',
            name='small_business',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Business',
            name='tax_number',
            field=fields.CharField(null=True, max_length=40),
        ),
        ops.AddField(
            model_name='Business',
            name='vat_id',
            field=fields.CharField(null=True, max_length=20),
        ),
        ops.AddField(
            model_name='Customer',
            name='address_line1',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Customer',
            name='address_line2',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Customer',
            name='billing_name',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Customer',
            name='city',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='Customer',
            name='company',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Customer',
            name='country',
            field=fields.CharField(null=True, max_length=2),
        ),
        ops.AddField(
            model_name='Customer',
            name='postal_code',
            field=fields.CharField(null=True, max_length=20),
        ),
        ops.AddField(
            model_name='Customer',
            name='vat_id',
            field=fields.CharField(null=True, max_length=20),
        ),
        ops.AddField(
            model_name='Invoice',
            name='buyer',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Invoice',
            name='credit_note_for',
            field=fields.ForeignKeyField('models.Invoice', source_field='credit_note_for_id', null=True, db_constraint=True, to_field='id', related_name='credit_notes', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Invoice',
            name='kind',
            field=fields.CharEnumField(default=InvoiceKind.INVOICE, description='INVOICE: invoice\nCREDIT_NOTE: credit_note', enum_type=InvoiceKind, max_length=11),
        ),
        ops.AddField(
            model_name='Invoice',
            name='net_amount',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='Invoice',
            name='notes',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Invoice',
            name='prices_include_tax',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Invoice',
            name='seller',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Invoice',
            name='tax_amount',
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name='Invoice',
            name='tax_breakdown',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='InvoiceLine',
            name='net_amount',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='InvoiceLine',
            name='tax_category',
            field=fields.CharField(null=True, max_length=2),
        ),
        ops.AddField(
            model_name='InvoiceLine',
            name='tax_rate',
            field=fields.CharField(null=True, max_length=8),
        ),
        ops.AddField(
            model_name='Payment',
            name='refunded_amount',
            field=fields.BigIntField(default=0),
        ),
        ops.AddField(
            model_name='Product',
            name='tax_category',
            field=fields.CharEnumField(default=TaxCategory.STANDARD, description='STANDARD: standard\nREDUCED: reduced\nEXEMPT: exempt', enum_type=TaxCategory, max_length=8),
        ),
    ]
