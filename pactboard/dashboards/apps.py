from typing import Any

from django.apps import AppConfig
from django.core import checks


def vega_bundle_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Generate the vega-embed bundle if missing (runserver and collectstatic run this check)."""
    from pactboard.dashboards.charts import vega_bundle_ensure

    try:
        vega_bundle_ensure()
    except OSError as exc:
        return [
            checks.Warning(
                f"The vega-embed bundle could not be written ({exc}); charts will not render in the browser.",
                hint="Run `pactboard vega_bundle` where static/vendor/ is writable, then collectstatic.",
                id="dashboards.W001",
            )
        ]
    return []


class DashboardsConfig(AppConfig):
    name = "pactboard.dashboards"
    label = "dashboards"

    def ready(self) -> None:
        checks.register(vega_bundle_check, checks.Tags.staticfiles)
