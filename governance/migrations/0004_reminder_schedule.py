"""Every hour, remind the members who have not voted on a proposal closing within a day."""

from django.db import migrations

TASK_NAME = "Remind members who have not voted"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME, defaults={"task": "governance.tasks.remind_non_voters", "interval": hourly}
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0003_close_due_proposals_schedule")]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
