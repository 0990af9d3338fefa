"""The titles SKAM gave ruler drafts ("First ruler", "Draft based on v3 Ruler 2026") were
stored as sentences in the language of whoever clicked "New draft"; they become data — a kind
and its values — said in each reader's language (``RulerVersion.title``).

A title is converted only when it is exactly one SKAM wrote, in English or Russian; a title a
person typed stays as typed. "Draft based on" names the base version by its number and, when
that base had a typed title, by that title; a base that was itself titled by SKAM is named by
its number alone (its own "based on" would only stack up).

Reversible: going back writes the converted titles again in English.
"""

from __future__ import annotations

import re

from django.db import migrations, models
from django.utils import translation

from criteria.models import ruler_title_text

FIRST = {"First ruler", "Первая линейка"}
BASED_ON = ("Draft based on ", "Черновик на основе ")
# How a version was named inside it: "v3 Ruler 2026" (English), «Ruler 2026, версия 3» (Russian).
NAMED = (
    re.compile(r"^v(?P<number>\d+) (?P<title>.*)$", re.S),
    re.compile(r"^(?P<title>.*), версия (?P<number>\d+)$", re.S),
)


def ruler_title_parse(text: str) -> dict | None:
    """The kind and values of an automatic title SKAM wrote, or None for a typed one."""
    text = (text or "").strip()
    if text in FIRST:
        return {"kind": "first"}
    for prefix in BASED_ON:
        if not text.startswith(prefix):
            continue
        named = text[len(prefix) :]
        for pattern in NAMED:
            match = pattern.match(named)
            if match is None:
                continue
            base = match.group("title")
            return {
                "kind": "based_on",
                "number": int(match.group("number")),
                "title": "" if ruler_title_parse(base) is not None else base,
            }
    return None


def forwards(apps, schema_editor) -> None:
    RulerVersion = apps.get_model("criteria", "RulerVersion")
    changed = []
    for ruler in RulerVersion.objects.exclude(typed_title="").only("pk", "typed_title"):
        data = ruler_title_parse(ruler.typed_title)
        if data is None:
            continue
        kind = data.pop("kind")
        ruler.typed_title, ruler.title_kind, ruler.title_values = "", kind, data
        changed.append(ruler)
    RulerVersion.objects.bulk_update(
        changed, ["typed_title", "title_kind", "title_values"], batch_size=500
    )


def backwards(apps, schema_editor) -> None:
    RulerVersion = apps.get_model("criteria", "RulerVersion")
    changed = []
    with translation.override("en"):
        for ruler in RulerVersion.objects.filter(typed_title=""):
            ruler.typed_title = ruler_title_text({"kind": ruler.title_kind, **ruler.title_values})
            changed.append(ruler)
    RulerVersion.objects.bulk_update(changed, ["typed_title"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("criteria", "0009_run_error_said_when_read"),
        # After governance's own conversion of prose, which read the ruler's title column.
        ("governance", "0032_merge_sso"),
    ]

    operations = [
        # The same column: the field is renamed, and may now be blank.
        migrations.AlterField(
            model_name="rulerversion",
            name="title",
            field=models.CharField(
                blank=True, db_column="title", max_length=200, verbose_name="title"
            ),
        ),
        migrations.RenameField(
            model_name="rulerversion", old_name="title", new_name="typed_title"
        ),
        migrations.AddField(
            model_name="rulerversion",
            name="title_kind",
            field=models.CharField(
                blank=True,
                choices=[("first", "First ruler"), ("based_on", "Draft based on a version")],
                max_length=20,
                verbose_name="automatic title",
            ),
        ),
        migrations.AddField(
            model_name="rulerversion",
            name="title_values",
            field=models.JSONField(
                blank=True, default=dict, verbose_name="values of the automatic title"
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AddConstraint(
            model_name="rulerversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("title_kind", ""), ("typed_title", ""), _negated=True),
                name="ruler_version_has_a_title",
                violation_error_message="Give the version a title.",
            ),
        ),
    ]
