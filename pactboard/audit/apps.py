from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "pactboard.audit"
    label = "audit"
    verbose_name = "Audit trail"
