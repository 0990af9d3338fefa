"""API tokens used to be DRF's ``authtoken``, kept in plain text; knox now keeps digests only.
The old table is dropped, so no usable token stays at rest in the database."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_role_groups")]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop)
    ]
