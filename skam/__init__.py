"""SKAM project package: settings, root URLs and the Celery app that wire the apps together."""

from skam.celery import app as celery_app

__all__ = ("celery_app",)
