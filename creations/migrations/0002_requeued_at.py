from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("creations", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(
            model_name="creation",
            old_name="enqueued_at",
            new_name="requeued_at",
        ),
        # The old column held every first send; the new one only recovery's re-sends.
        migrations.RunSQL(
            "UPDATE creations_creation SET requeued_at = NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
