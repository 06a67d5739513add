from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "pactboard.kpis"
    label = "kpis"
    verbose_name = "KPIs and agreements"

    def ready(self) -> None:
        from pactboard.kpis import guard  # noqa: F401  (registers the database guard)
