from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "pactboard.api"
    label = "api"
