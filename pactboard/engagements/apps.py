from django.apps import AppConfig


class EngagementsConfig(AppConfig):
    name = "pactboard.engagements"
    label = "engagements"
