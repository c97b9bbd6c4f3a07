"""RQ entry points of accounts: thin wrappers around services."""

from django.core.mail import send_mail
from django.db import close_old_connections

from . import services


def send_account_email(to: str, subject: str, body: str) -> None:
    """An account e-mail (queued on "light" after COMMIT, retried by RQ)."""
    send_mail(subject, body, None, [to])


def build_data_export(export_id: str) -> str:
    close_old_connections()
    try:
        return services.export_build(export_id=export_id)
    finally:
        close_old_connections()


def purge_deleted_account(user_id: int) -> int:
    close_old_connections()
    try:
        return services.account_purge(user_id=user_id)
    finally:
        close_old_connections()


def accounts_housekeeping() -> dict[str, int]:
    """Daily: expired exports removed, any deleted account's purge finished, and exports
    whose job was lost sent again."""
    close_old_connections()
    try:
        return {
            "exports_removed": services.exports_expire(),
            "creations_purged": services.deleted_accounts_purge(),
            "exports_resent": services.exports_resend_stuck(),
        }
    finally:
        close_old_connections()
