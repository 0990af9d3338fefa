"""The register's trigram indexes keep a short list of entries not yet merged (256 kB, not the
server's 4 MB): a search reads that list whole on every query, so while an import inserts
thousands of clients, a long one made every search of the register take a second or more. The
shorter list is merged more often, which costs the import nothing measurable."""

from django.db import migrations

INDEXES = ("accounts_client_search_name_trgm", "accounts_client_registration_number_trgm")


class PostgresOnlySQL(migrations.RunSQL):
    """Trigram indexes exist on PostgreSQL only; SQLite (the embedded default) skips this."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_merge_sso"),
    ]

    operations = [
        PostgresOnlySQL(
            sql=[f"ALTER INDEX {index} SET (gin_pending_list_limit = 256)" for index in INDEXES],
            reverse_sql=[
                f"ALTER INDEX {index} RESET (gin_pending_list_limit)" for index in INDEXES
            ],
        ),
    ]
