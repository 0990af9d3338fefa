"""A decision keeps what it decided as data (its kind and its subject), and a proposal keeps
the title its proposer typed, blank when none was: both are said in the reader's language
when read. The old sentences are converted by the next migration, then dropped."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("governance", "0026_missed_snapshot_schedule")]

    operations = [
        migrations.AddField(
            model_name="decision",
            name="kind",
            field=models.CharField(
                choices=[
                    ("grant_key", "Grant key status"),
                    ("revoke_key", "Revoke key status"),
                    ("strategic_bet", "Strategic bet"),
                    ("adopt_ruler", "Adopt a ruler version"),
                    ("adopt_policy", "Adopt a policy version"),
                    ("grant_mandate", "Grant or change a mandate"),
                    ("seat_give", "Give a seat on the committee"),
                    ("seat_end", "End a seat on the committee"),
                    ("chair", "Hand the chair to a member"),
                ],
                default="",
                max_length=20,
                verbose_name="decision",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="decision",
            name="subject",
            field=models.JSONField(blank=True, default=dict, verbose_name="decided on"),
        ),
        # The same column: the field is renamed, and may now be blank.
        migrations.AlterField(
            model_name="proposal",
            name="title",
            field=models.CharField(
                blank=True, db_column="title", max_length=200, verbose_name="title"
            ),
        ),
        migrations.RenameField(model_name="proposal", old_name="title", new_name="typed_title"),
    ]
