"""The ruler titles SKAM wrote, where a decision or a proposal froze them: a decision's subject,
a proposal's evidence, and what an open vote on a ruler adopts (its content and digest, so
that the adoption still finds the draft as voted). Converted as the ruler's own title is
(``criteria`` 0010); a typed title stays as typed. Closed proposals keep the content they were
decided on: the decision's digest covers it.

Reversible: going back writes the converted titles again in English.
"""

from __future__ import annotations

import importlib

from django.db import migrations
from django.utils import translation

from criteria.models import ruler_title_text
from governance.committee.versions import digest_of

ruler_title_parse = importlib.import_module(
    "criteria.migrations.0010_ruler_titles_as_data"
).ruler_title_parse
BATCH = 500


def _as_data(title: object) -> object:
    if isinstance(title, str):
        return ruler_title_parse(title) or title
    return title


def _as_english(title: object) -> object:
    if isinstance(title, dict):
        with translation.override("en"):
            return ruler_title_text(title)
    return title


def _convert(apps, say) -> None:
    Decision = apps.get_model("governance", "Decision")
    Proposal = apps.get_model("governance", "Proposal")
    decisions = []
    for decision in Decision.objects.filter(subject__has_key="ruler").only("pk", "subject"):
        ruler = decision.subject.get("ruler")
        if isinstance(ruler, dict) and say(ruler.get("title")) != ruler.get("title"):
            decision.subject = {**decision.subject, "ruler": {**ruler, "title": say(ruler["title"])}}
            decisions.append(decision)
    Decision.objects.bulk_update(decisions, ["subject"], batch_size=BATCH)

    proposals = []
    for proposal in Proposal.objects.filter(ruler__isnull=False).only(
        "pk", "state", "evidence", "version_content", "version_digest"
    ):
        changed = False
        ruler = proposal.evidence.get("ruler") if isinstance(proposal.evidence, dict) else None
        if isinstance(ruler, dict) and say(ruler.get("title")) != ruler.get("title"):
            proposal.evidence = {**proposal.evidence, "ruler": {**ruler, "title": say(ruler["title"])}}
            changed = True
        content = proposal.version_content
        if (
            proposal.state == "open"
            and proposal.version_digest
            and isinstance(content, dict)
            and say(content.get("title")) != content.get("title")
        ):
            proposal.version_content = {**content, "title": say(content["title"])}
            proposal.version_digest = digest_of(proposal.version_content)
            changed = True
        if changed:
            proposals.append(proposal)
    Proposal.objects.bulk_update(
        proposals, ["evidence", "version_content", "version_digest"], batch_size=BATCH
    )


def forwards(apps, schema_editor) -> None:
    _convert(apps, _as_data)


def backwards(apps, schema_editor) -> None:
    _convert(apps, _as_english)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0032_merge_sso"),
        ("criteria", "0010_ruler_titles_as_data"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
