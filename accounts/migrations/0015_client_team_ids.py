"""``team_ids`` on PostgreSQL: each client's team members' ids (NULL without a team), kept by
the database and indexed (GIN), so that "the accounts a KAM owns or works on" is two index lookups
(``accounts.selectors.clients_visible_to``) rather than a probe of the client's primary key
for every account of the KAM's teams: at a million clients, with five thousand team accounts a
KAM, those probes cost 18 ms of every register page.

The column is the database's alone: no model field names it, so no Python write of a client
can carry a stale copy back. Triggers on the team table bring it up to date on every write, by
any path (a form, the API, the admin, an import's bulk writes, SQL). The record leaves it out
(``governance.record.governed.KEPT_BY_DATABASE``): the team's own rows are recorded. SQLite,
the embedded default's size, reads the team table instead.
"""

from django.db import migrations

CREATE = r"""
ALTER TABLE accounts_client ADD COLUMN team_ids bigint[];
UPDATE accounts_client c SET team_ids = t.ids
FROM (
    SELECT client_id, array_agg(user_id ORDER BY user_id) AS ids
    FROM accounts_accountteammember GROUP BY client_id
) t
WHERE t.client_id = c.id;
-- Only the clients with a team: most have none, and an import of a hundred thousand new
-- clients would otherwise add each to one entry of the index, "no team". The visibility's
-- ``team_ids @> ARRAY[…]`` implies the condition, so the planner uses it.
CREATE INDEX client_by_team_member ON accounts_client USING gin (team_ids)
    WHERE team_ids IS NOT NULL;

CREATE OR REPLACE FUNCTION skam_client_team_ids() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    -- The client the row leaves and the one it joins (OLD is NULL on insert, NEW on delete).
    UPDATE accounts_client c SET team_ids = NULLIF(ARRAY(
        SELECT t.user_id FROM accounts_accountteammember t
        WHERE t.client_id = c.id ORDER BY t.user_id
    ), '{}')
    WHERE c.id IN (OLD.client_id, NEW.client_id);
    RETURN NULL;
END
$fn$;
CREATE TRIGGER skam_client_team_ids
    AFTER INSERT OR DELETE OR UPDATE OF client_id, user_id ON accounts_accountteammember
    FOR EACH ROW EXECUTE FUNCTION skam_client_team_ids();
"""
DROP = r"""
DROP TRIGGER IF EXISTS skam_client_team_ids ON accounts_accountteammember;
DROP FUNCTION IF EXISTS skam_client_team_ids();
ALTER TABLE accounts_client DROP COLUMN IF EXISTS team_ids;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0014_count_rows_in_one_query")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
