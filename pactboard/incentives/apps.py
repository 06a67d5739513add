from django.apps import AppConfig


class IncentivesConfig(AppConfig):
    name = "pactboard.incentives"
    label = "incentives"
    verbose_name = "Incentives and settlements"

    def ready(self) -> None:
        from pactboard.incentives import guard  # noqa: F401  (registers the database guard)
