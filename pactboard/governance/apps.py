from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "pactboard.governance"
    label = "governance"
    verbose_name = "Governance: reviews, actions, feedback, notifications"
