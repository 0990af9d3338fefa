from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _owner_name_install(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from accounts.owner_name import owner_name_install  # noqa: PLC0415 - models load after the app registry

    owner_name_install(using=using)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        post_migrate.connect(_owner_name_install, sender=self, dispatch_uid="owner_name_install")
