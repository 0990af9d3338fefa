"""An incident taken in hand with nothing typed kept "Taken in hand." in the language of whoever
took it; its update is blank now, said in the reader's language. The sentence in English or
Russian becomes blank (through the record's triggers); anything typed stays. Reversible: the
sentence comes back, in English."""

from django.db import migrations, models

SAID = ("Taken in hand.", "Взято в работу.")


def forwards(apps, schema_editor) -> None:
    apps.get_model("governance", "IncidentUpdate").objects.filter(text__in=SAID).update(text="")


def backwards(apps, schema_editor) -> None:
    apps.get_model("governance", "IncidentUpdate").objects.filter(text="").update(text=SAID[0])


class Migration(migrations.Migration):
    dependencies = [("governance", "0029_decision_summary_dropped")]

    operations = [
        migrations.AlterField(
            model_name="incidentupdate",
            name="text",
            field=models.TextField(blank=True, verbose_name="update"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
