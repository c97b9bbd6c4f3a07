"""Every job accounts sends to RQ is sent here (named by its dotted path: this module,
below the services, never imports the job bodies). Account e-mails are sent by a job on
"light" after COMMIT (a slow mail server never holds the request), retried by RQ."""

import logging

from django.db import transaction
from redis.exceptions import RedisError

from accounts.models import DataExport
from phoenix import redis_clients
from phoenix.emails import email_enqueue

log = logging.getLogger(__name__)

ENTRYPOINTS = "accounts.jobs.entrypoints"
BUILD_DATA_EXPORT = f"{ENTRYPOINTS}.build_data_export"
PURGE_DELETED_ACCOUNT = f"{ENTRYPOINTS}.purge_deleted_account"
EXPORT_JOB_TIMEOUT = 1800


def account_email_enqueue(*, to: str, subject: str, body: str) -> None:
    """Queue the e-mail once the caller's transaction commits (at once outside one)."""
    if to:
        transaction.on_commit(lambda: email_enqueue(to=to, subject=subject, body=body))


def export_enqueue(export: DataExport) -> None:
    try:
        redis_clients.get_queue("housekeeping").enqueue(
            BUILD_DATA_EXPORT,
            str(export.pk),
            job_id=f"data-export-{export.pk}",
            job_timeout=EXPORT_JOB_TIMEOUT,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"data export {export.pk}",
        )
    except RedisError:
        log.warning("Could not queue data export %s: the daily job retries it", export.pk)


def account_purge_enqueue(user_id: int) -> None:
    try:
        redis_clients.get_queue("housekeeping").enqueue(
            PURGE_DELETED_ACCOUNT,
            user_id,
            job_id=f"purge-account-{user_id}",
            job_timeout=EXPORT_JOB_TIMEOUT,
            description=f"purge deleted account {user_id}",
        )
    except RedisError:
        log.warning("Could not queue the purge of account %s: the daily job does it", user_id)
