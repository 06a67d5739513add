from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "pactboard.documents"
    label = "documents"
    verbose_name = "Engagement documents"
