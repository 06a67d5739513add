from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "pactboard.governance"
    label = "governance"
    verbose_name = "Governance: reviews, actions, feedback, notifications"

    def ready(self) -> None:
        from pactboard.governance.receivers import values_recorded_scan
        from pactboard.measurements.signals import values_recorded

        values_recorded.connect(values_recorded_scan, dispatch_uid="governance.values_recorded_scan")
