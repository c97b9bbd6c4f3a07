"""Notifications stop keeping the words of a draft or a comment: the text is built when it
is read. Existing rows keep the refund of a failed creation (read back from their text, as
`amount`) and lose the rest of their text. Not reversible in content: the words are gone."""

import re

from django.db import migrations, models

REFUNDED = re.compile(r", (\d+) tokens? refunded: ")


def blank_texts(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    failed = Notification.objects.filter(kind="creation_failed").exclude(text="")
    for pk, text in failed.values_list("pk", "text").iterator():
        found = REFUNDED.search(text)
        if found:
            Notification.objects.filter(pk=pk).update(amount=int(found.group(1)))
    Notification.objects.exclude(text="").update(text="")


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="amount",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="notification",
            name="emailed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="notification",
            name="text",
            field=models.CharField(blank=True, default="", max_length=300),
        ),
        migrations.RunPython(blank_texts, migrations.RunPython.noop),
    ]
