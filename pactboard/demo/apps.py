from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "pactboard.demo"
    label = "demo"
    verbose_name = "Demo data"
