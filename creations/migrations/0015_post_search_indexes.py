"""Public search (issue 22): GIN indexes of the words (the search vector, and trigrams of
prompt and caption) of public posts only, so a rare word's posts are found without reading
the drafts' entries, and no bitmap of every published row is ANDed in.

Not atomic: the indexes are built CONCURRENTLY, so writes to creations go on while they build.
"""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("creations", "0014_submission_intent_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="creation",
            index=django.contrib.postgres.indexes.GinIndex(
                models.F("search_vector"),
                condition=models.Q(("status", "published"), ("trashed_at__isnull", True)),
                name="creation_post_search",
            ),
        ),
        AddIndexConcurrently(
            model_name="creation",
            index=django.contrib.postgres.indexes.GinIndex(
                condition=models.Q(("status", "published"), ("trashed_at__isnull", True)),
                fields=["prompt", "caption"],
                name="creation_post_words_trgm",
                opclasses=["gin_trgm_ops", "gin_trgm_ops"],
            ),
        ),
    ]
