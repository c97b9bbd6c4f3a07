import hashlib
import json

from django.db import migrations, models


def hash_keyed_requests(apps, schema_editor):
    """Creations made with a key before this: their request's hash, from the row (a purged
    one has lost its prompt, so its key stays spent for any body)."""
    Creation = apps.get_model("creations", "Creation")
    keyed = Creation.objects.filter(idempotency_key__isnull=False, purged_at__isnull=True)
    for creation in keyed.only("kind", "prompt", "aspect_ratio", "orientation").iterator():
        asked = [creation.kind, creation.prompt, creation.aspect_ratio, creation.orientation]
        digest = hashlib.sha256(json.dumps(asked, ensure_ascii=False).encode()).hexdigest()
        Creation.objects.filter(pk=creation.pk).update(request_hash=digest)


class Migration(migrations.Migration):
    dependencies = [
        ("creations", "0004_remote_tasks"),
    ]

    operations = [
        migrations.AddField(
            model_name="creation",
            name="request_hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.RunPython(hash_keyed_requests, migrations.RunPython.noop),
    ]
