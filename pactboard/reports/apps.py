from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "pactboard.reports"
    label = "reports"
    verbose_name = "Reports"
