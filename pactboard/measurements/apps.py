from django.apps import AppConfig


class MeasurementsConfig(AppConfig):
    name = "pactboard.measurements"
    label = "measurements"

    def ready(self) -> None:
        from pactboard.kpis.signals import version_agreed
        from pactboard.measurements import guard  # noqa: F401  (registers the database guard)
        from pactboard.measurements.receivers import version_agreed_recompute

        version_agreed.connect(version_agreed_recompute, dispatch_uid="measurements.version_agreed_recompute")
