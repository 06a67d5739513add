from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "pactboard.kpis"
    label = "kpis"
    verbose_name = "KPIs and agreements"

    def ready(self) -> None:
        from pactboard.engagements import ports
        from pactboard.kpis import guard  # noqa: F401  (registers the database guard)
        from pactboard.kpis.selectors import engagement_kpi_names, objective_kpi_counts

        ports.objective_kpi_counts.connect(objective_kpi_counts)
        ports.engagement_kpi_names.connect(engagement_kpi_names)
