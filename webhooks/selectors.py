"""Reading webhook endpoints and their deliveries: always through their owner."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from .models import WebhookDelivery, WebhookEndpoint

LOG_SIZE = 20


def endpoints_of(owner: AbstractBaseUser) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(owner_id=owner.pk).order_by("created_at", "id")


def endpoint_for_owner(*, owner: AbstractBaseUser, endpoint_id) -> WebhookEndpoint | None:
    """The owner's endpoint; None for another's or an unknown id (the same answer)."""
    return endpoints_of(owner).filter(pk=endpoint_id).first()


def delivery_for_owner(*, owner: AbstractBaseUser, delivery_id) -> WebhookDelivery | None:
    return (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(pk=delivery_id, endpoint__owner_id=owner.pk)
        .first()
    )


def deliveries_of(endpoint: WebhookEndpoint, *, limit: int = LOG_SIZE) -> list[WebhookDelivery]:
    """The endpoint's log, newest first."""
    return list(endpoint.deliveries.defer("payload").order_by("-created_at", "-id")[:limit])


@dataclass(frozen=True)
class EndpointLog:
    endpoint: WebhookEndpoint
    deliveries: list[WebhookDelivery]


def endpoints_with_logs(owner: AbstractBaseUser, *, limit: int = LOG_SIZE) -> list[EndpointLog]:
    """The owner's endpoints, each with its newest deliveries: two queries whatever the
    number of endpoints and deliveries (the newest `limit` per endpoint, by a window)."""
    endpoints = list(endpoints_of(owner))
    if not endpoints:
        return []
    recent = (
        WebhookDelivery.objects.filter(endpoint__in=endpoints)
        .defer("payload")
        .annotate(
            row=Window(
                RowNumber(),
                partition_by=[F("endpoint_id")],
                order_by=[F("created_at").desc(), F("id").desc()],
            )
        )
        .filter(row__lte=limit)
        .order_by("-created_at", "-id")
    )
    by_endpoint: dict = {endpoint.pk: [] for endpoint in endpoints}
    for item in recent:
        by_endpoint[item.endpoint_id].append(item)
    return [EndpointLog(endpoint, by_endpoint[endpoint.pk]) for endpoint in endpoints]
