import pytest
from django.utils import timezone

from creations.models import Creation


@pytest.fixture
def bulk_creations(db):
    """Rows written straight to the table (as the bench does), for counts a test could not
    afford through the services: `count` finished drafts of `owner`, newest last."""

    def make(owner, count: int, *, prompt: str = "draft number {n} of a lighthouse", **fields):
        now = timezone.now()
        rows = [
            Creation(
                owner=owner,
                kind="image",
                prompt=prompt.format(n=n),
                aspect_ratio="1:1",
                status=Creation.Status.DRAFT,
                cost=1,
                media="creations/bulk.png",
                width=8,
                height=8,
                progress=100,
                created_at=now - timezone.timedelta(seconds=count - n),
                processing_at=now,
                draft_at=now,
                **fields,
            )
            for n in range(count)
        ]
        return Creation.objects.bulk_create(rows, batch_size=500)

    return make
