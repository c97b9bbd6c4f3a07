from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from . import admin  # noqa: F401 - the admin's log-in goes through the code step
