"""RQ entry points of accounts: thin wrappers around services."""

from django.core.mail import send_mail

from accounts import services
from phoenix.jobs import job_entrypoint


@job_entrypoint
def send_account_email(to: str, subject: str, body: str) -> None:
    """An account e-mail (queued on "light" after COMMIT, retried by RQ)."""
    send_mail(subject, body, None, [to])


@job_entrypoint
def build_data_export(export_id: str) -> str:
    return services.export_build(export_id=export_id)


@job_entrypoint
def purge_deleted_account(user_id: int) -> int:
    return services.account_purge(user_id=user_id)


@job_entrypoint
def accounts_housekeeping() -> dict[str, int]:
    """Daily: expired exports removed, any deleted account's purge finished, and exports
    whose job was lost sent again."""
    return {
        "exports_removed": services.exports_expire(),
        "creations_purged": services.deleted_accounts_purge(),
        "exports_resent": services.exports_resend_stuck(),
    }
