from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pactboard.accounts"
    label = "accounts"
    verbose_name = "Accounts and organisations"
