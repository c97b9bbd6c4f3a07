"""Background work of notifications: sending.py sends, entrypoints.py is what RQ runs.

Jobs queued (or waiting for a retry) under the old name `notifications.jobs.<function>`
still resolve to the same entry points."""

from phoenix.jobs import legacy_job_names

__getattr__ = legacy_job_names("notifications.jobs.entrypoints", ["send_notification_email"])
