"""When webhooks' periodic job runs: registered with rqcron by phoenix/cron.py."""

from . import entrypoints


def register_schedule(cron) -> None:
    # Every minute: deliveries whose worker died mid-try, or whose job was lost, are sent
    # again (webhooks.delivery says why nothing is lost or doubled). On `default`, with the
    # other recovery: a webhooks worker that is down cannot hold it up.
    cron.register(
        entrypoints.recover_webhook_deliveries, queue_name="default", interval=60, job_timeout=300
    )
