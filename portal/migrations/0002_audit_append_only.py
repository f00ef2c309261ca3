"""The audit log is append-only: the store refuses an UPDATE of a row (SQLite trigger)."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]
    operations = [
        migrations.RunSQL(
            "CREATE TRIGGER portal_auditevent_no_update BEFORE UPDATE ON portal_auditevent "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
            "DROP TRIGGER IF EXISTS portal_auditevent_no_update;"),
    ]
