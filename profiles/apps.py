from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the deployment checks
