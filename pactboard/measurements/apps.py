from django.apps import AppConfig


class MeasurementsConfig(AppConfig):
    name = "pactboard.measurements"
    label = "measurements"

    def ready(self) -> None:
        from pactboard.kpis import ports
        from pactboard.kpis.signals import version_agreed
        from pactboard.measurements import guard  # noqa: F401  (registers the database guard)
        from pactboard.measurements.receivers import version_agreed_recompute
        from pactboard.measurements.selectors import dataset_schema_for

        ports.dataset_schema_for.connect(dataset_schema_for)
        version_agreed.connect(version_agreed_recompute, dispatch_uid="measurements.version_agreed_recompute")
