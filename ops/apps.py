from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from . import counters
        from .rq_dashboard import protect_rq_dashboard

        # The queue dashboard needs its own permission, not just is_staff.
        protect_rq_dashboard()

        # Count each creation event as it is committed (for /metrics).
        counters.connect()
