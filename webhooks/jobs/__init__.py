"""Background work of webhooks: sending.py queues the jobs, entrypoints.py is what RQ runs
(on `webhooks`, a non-forking worker of its own, with its scheduler for the retries)."""
