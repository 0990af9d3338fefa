from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles_after_last_app(sender: AppConfig, **kwargs: object) -> None:
    """Grant the role groups their permissions once ``migrate`` has created every permission:
    post_migrate is sent per app with models, in INSTALLED_APPS order, so wait for the last."""
    from accounts.roles import roles_sync  # noqa: PLC0415 - it imports auth's models

    last = [config for config in apps.get_app_configs() if config.models_module][-1]
    if sender is last:
        roles_sync()


class SkamConfig(AppConfig):
    name = "skam"
    verbose_name = _("SKAM")

    def ready(self) -> None:
        post_migrate.connect(_sync_roles_after_last_app, dispatch_uid="skam.roles_sync")
