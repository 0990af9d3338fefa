"""Every 5 minutes, a scheduled re-evaluation that no beat sent is started (once)."""

from django.db import migrations

TASK_NAME = "Catch up a missed re-evaluation"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_5_minutes, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "criteria.tasks.reevaluate_if_missed", "interval": every_5_minutes},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("criteria", "0007_stalled_run_watchdog_schedule")]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
