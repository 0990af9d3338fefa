from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _record_install(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from governance.record.install import record_install  # noqa: PLC0415 - models load after the app registry

    record_install(using=using)


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Governance")

    def ready(self) -> None:
        from governance.kpis.cache import connect_signals  # noqa: PLC0415 - models load after the app registry
        from governance.record.context import connection_prepare  # noqa: PLC0415 - as above

        connect_signals()
        # The record's triggers follow every migrate; the origin of a write follows every
        # connection (governance/record/).
        post_migrate.connect(_record_install, sender=self, dispatch_uid="record_install")
        connection_created.connect(connection_prepare, dispatch_uid="record_connection")
