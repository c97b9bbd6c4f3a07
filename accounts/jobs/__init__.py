"""Background work of accounts: sending.py sends, entrypoints.py is what RQ runs.

Jobs queued under the old names `accounts.jobs.<function>` still resolve to the same
entry points."""

from phoenix.jobs import legacy_job_names

__getattr__ = legacy_job_names(
    "accounts.jobs.entrypoints",
    ["send_account_email", "build_data_export", "purge_deleted_account", "accounts_housekeeping"],
)
