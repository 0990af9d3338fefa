"""``skam_count_rows``: a list's count in one query on PostgreSQL, exact up to a limit and the
planner's estimate beyond (``accounts.pagination.count_rows``), so that a page costs the same
number of queries at a thousand clients and at a million."""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION skam_count_rows(
    query text, exact_limit integer, OUT n bigint, OUT estimated boolean
) LANGUAGE plpgsql AS $fn$
DECLARE
    plan json;
BEGIN
    EXECUTE format('SELECT count(*) FROM (%s LIMIT %s) counted', query, exact_limit + 1) INTO n;
    estimated := n > exact_limit;
    IF estimated THEN
        EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
        n := GREATEST((plan -> 0 -> 'Plan' ->> 'Plan Rows')::numeric::bigint, n);
    END IF;
END
$fn$;
-- It runs the text it is given: only its owner, the application, may call it.
REVOKE ALL ON FUNCTION skam_count_rows(text, integer) FROM PUBLIC;
"""
DROP = "DROP FUNCTION IF EXISTS skam_count_rows(text, integer)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0013_merge_scale_demo")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
