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
    ]
