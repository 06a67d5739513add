from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "pactboard.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from pactboard.audit import guard  # noqa: F401  (registers the database guard)
