from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "pactboard.governance"
    label = "governance"
    verbose_name = "Governance: reviews, actions, feedback, notifications"

    def ready(self) -> None:
        from pactboard.accounts import ports as accounts_ports
        from pactboard.governance.agenda import agenda_section_register
        from pactboard.governance.alert_agenda import alerts_attention
        from pactboard.governance.membership_holds import membership_closed_actions_handover, membership_open_actions
        from pactboard.governance.notify import notify_channel_register
        from pactboard.governance.receivers import values_recorded_scan
        from pactboard.governance.webhooks import webhook_deliveries_create
        from pactboard.measurements.signals import values_recorded

        agenda_section_register(key="alerts", title="Dips and chronic KPIs", builder=alerts_attention, after="kpis")
        values_recorded.connect(values_recorded_scan, dispatch_uid="governance.values_recorded_scan")
        notify_channel_register(name="webhooks", channel=webhook_deliveries_create)
        accounts_ports.membership_removal_blockers.connect(membership_open_actions)
        accounts_ports.membership_removal_handover.connect(membership_closed_actions_handover)
