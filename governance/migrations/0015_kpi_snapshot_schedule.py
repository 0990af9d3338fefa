"""Every night, recompute the KPI snapshots of the current and the previous quarter, as a
schedule the administrator can edit (Django admin → Periodic tasks)."""

from django.conf import settings
from django.db import migrations

TASK_NAME = "Snapshot the KPIs of the current and the previous quarter"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly, _ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="3",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "governance.tasks.snapshot_kpis",
            "crontab": nightly,
            "description": "Every night at 03:30, after the re-evaluation of every client: "
            "compute the KPI actuals of the current and the previous quarter.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0014_mandate_reminders_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
