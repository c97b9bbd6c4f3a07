"""phoenix.prepared: a queryset compiled once, run again with other values, gives what the
ORM gives for those values."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models.functions import Upper

from creations.models import Creation
from phoenix.prepared import STAND_IN_ID, PreparedQuery


def newest_of(owner_id):
    return Creation.objects.filter(owner_id=owner_id).order_by("-created_at", "-pk")[:3]


def test_it_runs_the_same_statement_for_each_owner_as_the_orm(alice, bob, make_creation):
    for n in range(4):
        make_creation(owner=alice, prompt=f"alice {n}")
    make_creation(owner=bob, prompt="bob's only one")
    prepared = PreparedQuery(newest_of, owner_id=STAND_IN_ID)

    for owner in (alice, bob, alice):
        rows = prepared.rows(owner_id=owner.pk)
        assert [row.pk for row in rows] == [row.pk for row in newest_of(owner.pk)]
        assert all(isinstance(row, Creation) and row.owner_id == owner.pk for row in rows)
    assert prepared.rows(owner_id=0) == []


def test_annotations_come_back_as_attributes(alice, make_creation):
    creation = make_creation(owner=alice, prompt="a fox")
    prepared = PreparedQuery(
        lambda owner_id: Creation.objects.filter(owner_id=owner_id).annotate(
            shouted=Upper("prompt")
        ),
        owner_id=STAND_IN_ID,
    )

    (row,) = prepared.rows(owner_id=alice.pk)

    assert row.pk == creation.pk
    assert row.shouted == "A FOX"


def test_it_refuses_a_stand_in_that_is_not_one_parameter(db):
    twice = PreparedQuery(
        lambda owner_id: Creation.objects.filter(owner_id=owner_id, parent__owner_id=owner_id),
        owner_id=STAND_IN_ID,
    )
    with pytest.raises(ImproperlyConfigured, match="2 parameters"):
        twice.rows(owner_id=1)


def test_it_refuses_other_values_than_its_stand_ins(db):
    prepared = PreparedQuery(newest_of, owner_id=STAND_IN_ID)
    with pytest.raises(TypeError):
        prepared.rows(owner=1)
