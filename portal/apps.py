from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    label = "portal"
    verbose_name = "cardcheck 县级门户"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal import audit  # noqa: F401 — connects the login signals
