from django.apps import AppConfig


class MeasurementsConfig(AppConfig):
    name = "pactboard.measurements"
    label = "measurements"

    def ready(self) -> None:
        from pactboard.measurements import guard  # noqa: F401  (registers the database guard)
