from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0013_foreign_key_indexes")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Business",
            name="time_zone",
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
