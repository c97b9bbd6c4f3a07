"""Search over creations' words (issue 22): a generated search vector of prompt and caption,
and GIN indexes for whole words (the vector) and parts of words (trigrams), each leading
with owner_id (btree_gin) so a creator's search reads only their own entries.

Not atomic: the indexes are built CONCURRENTLY, so writes to creations go on while they
build. Adding the stored generated column itself rewrites the table under its lock (once,
seconds at a million rows); nothing else here holds writers back.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.conf import settings
from django.contrib.postgres.operations import (
    AddIndexConcurrently,
    BtreeGinExtension,
    TrigramExtension,
)
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("creations", "0007_batches_seeds_lineage"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        TrigramExtension(),
        BtreeGinExtension(),
        migrations.AddField(
            model_name="creation",
            name="search_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.contrib.postgres.search.CombinedSearchVector(
                    django.contrib.postgres.search.SearchVector(
                        "prompt", config="english", weight="A"
                    ),
                    "||",
                    django.contrib.postgres.search.SearchVector(
                        "caption", config="english", weight="B"
                    ),
                    django.contrib.postgres.search.SearchConfig("english"),
                ),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        AddIndexConcurrently(
            model_name="creation",
            index=models.Index(
                condition=models.Q(("trashed_at__isnull", True)),
                fields=["owner", "-created_at"],
                name="creation_library",
            ),
        ),
        AddIndexConcurrently(
            model_name="creation",
            index=django.contrib.postgres.indexes.GinIndex(
                models.F("owner"), models.F("search_vector"), name="creation_search"
            ),
        ),
        AddIndexConcurrently(
            model_name="creation",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["owner", "prompt", "caption"],
                opclasses=["int4_ops", "gin_trgm_ops", "gin_trgm_ops"],
                name="creation_words_trgm",
            ),
        ),
    ]
