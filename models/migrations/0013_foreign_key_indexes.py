"""Every foreign key leads an index (the rule of 0011, for the tables that came beside it):
a business's plan changes, a plan family's products, a business's trusted documents."""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0012_trusted_documents")]

    initial = False

    operations = [
        ops.AddIndex(model_name="PlanChange", index=Index(fields=["business_id", "mode", "created_at"])),
        ops.AddIndex(model_name="Product", index=Index(fields=["plan_family_id"])),
        ops.AddIndex(model_name="TrustedDocument", index=Index(fields=["business_id"])),
    ]
