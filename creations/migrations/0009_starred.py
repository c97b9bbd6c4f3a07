"""Favourites (issue 22): the owner's star on a creation, and the index of an owner's
starred creations newest first, built CONCURRENTLY (writes go on meanwhile)."""

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("creations", "0008_search_vector"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="creation",
            name="starred_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        AddIndexConcurrently(
            model_name="creation",
            index=models.Index(
                condition=models.Q(("starred_at__isnull", False), ("trashed_at__isnull", True)),
                fields=["owner", "-created_at"],
                name="creation_starred",
            ),
        ),
    ]
