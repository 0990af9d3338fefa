"""A run stopped for a new ruler kept that reason as an English sentence; it is kept as a code
now, said in the reader's language. Reversible: the sentence comes back, in English."""

from django.db import migrations

SENTENCE = "Superseded: a new ruler version was put in force."
CODE = "superseded"


def forwards(apps, schema_editor) -> None:
    apps.get_model("criteria", "EvaluationRun").objects.filter(error=SENTENCE).update(error=CODE)


def backwards(apps, schema_editor) -> None:
    apps.get_model("criteria", "EvaluationRun").objects.filter(error=CODE).update(error=SENTENCE)


class Migration(migrations.Migration):
    dependencies = [("criteria", "0008_missed_reevaluation_schedule")]

    operations = [migrations.RunPython(forwards, backwards)]
