from django.db import migrations

# The ledger is append-only even for code that bypasses the ORM: the database refuses
# UPDATE and DELETE of its rows. (TRUNCATE, used by test teardown, is not affected.)
SQL = """
CREATE OR REPLACE FUNCTION tokens_ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tokens_ledger_append_only
    BEFORE UPDATE OR DELETE ON tokens_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION tokens_ledger_refuse_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS tokens_ledger_append_only ON tokens_ledgerentry;
DROP FUNCTION IF EXISTS tokens_ledger_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("tokens", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
