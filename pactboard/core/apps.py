from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "pactboard.core"
    label = "core"
