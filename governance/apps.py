from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Governance")

    def ready(self) -> None:
        from governance.kpis.cache import connect_signals  # noqa: PLC0415 - models load after the app registry

        connect_signals()
