"""The decision's sentence is dropped: its kind and subject say it (converted by 0028). Going
back, the column returns blank and 0028's reverse writes it again, in English."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("governance", "0028_prose_to_data")]

    operations = [
        migrations.AlterField(
            model_name="decision",
            name="summary",
            field=models.CharField(default="", max_length=300, verbose_name="decision"),
        ),
        migrations.RemoveField(model_name="decision", name="summary"),
    ]
