"""The nightly re-evaluation of every client, as a schedule the administrator can edit
(Django admin → Periodic tasks)."""

from django.conf import settings
from django.db import migrations

TASK_NAME = "Re-evaluate every client against the ruler"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="2",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "criteria.tasks.reevaluate_all",
            "crontab": nightly,
            "description": "Every night at 02:00: score every client against the ruler in "
            "force and put disagreements with key status on the committee's agenda.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("criteria", "0002_ruler_coverage_evaluations"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
