"""Sentences stored in one language become data, said in the reader's language when read.

* A decision's summary ("Grant key status: ACME", «Присвоить статус ключевого: ACME») becomes
  its kind (the adopted proposal's type) and its subject (the client's or person's name as the
  sentence gave it; a ruler, policy or mandate as its row says).
* A proposal's frozen evidence: the verdict sentence becomes a code and its values, the ruler
  its number and title, each earlier decision its kind and subject.
* A proposal's title that is exactly the one SKAM would say from its type and subject, in
  English or Russian, becomes blank: said in each reader's language from then on.

A sentence is converted only when saying the data in English or Russian gives it back (numbers
compared without their separators): anything else — typed by a person, or written in another
wording — is kept as it was written (``{"text": …}`` for a verdict or a decision), and shown as
before. The changed rows go through the record's triggers like any other change (the entries
name the ``migrate`` command and who ran it), so ``audit_verify`` still holds.

Reversible: going back writes every converted sentence again in English (the site's default
language when this was written), whatever language it was first written in.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from itertools import product

from django.db import migrations
from django.utils import translation
from django.utils.translation import gettext

from criteria.models import CriterionKind, Direction
from criteria.verdicts import FAILS_RULER, MEETS_RULER, NOT_SCORED, TEXT, verdict_text
from governance.models.committee import ProposalType, decision_text

LANGUAGES = ("en", "ru")
CLIENT_TYPES = ("grant_key", "revoke_key", "strategic_bet")
BATCH = 500


def _same(said: str, stored: str) -> bool:
    """Equal but for how numbers were grouped and their decimal mark."""

    def plain(text: str) -> str:
        return re.sub(r"[\s\u00a0\u202f,.]", "", text)

    return plain(said) == plain(stored)


def _user_name(user) -> str:
    return f"{user.first_name} {user.last_name}".strip() or user.username


def _after_label(text: str, kind: str) -> str | None:
    """What follows "<type>: " in ``text``, the type said in English or Russian."""
    if kind not in ProposalType.values:
        return None
    for language in LANGUAGES:
        with translation.override(language):
            prefix = f"{ProposalType(kind).label}: "
        if text.startswith(prefix):
            return text[len(prefix) :]
    return None


def _said_in_a_language(kind: str, subject: dict, text: str) -> bool:
    for language in LANGUAGES:
        with translation.override(language):
            if decision_text(kind, subject) == text:
                return True
    return False


def _subject_of(proposal) -> dict:
    """A proposal's subject from its rows (the client's name as it is now)."""
    if proposal.client_id:
        return {"client": proposal.client.name}
    if proposal.ruler_id:
        return {"ruler": {"number": proposal.ruler.number, "title": proposal.ruler.title}}
    if proposal.policy_id:
        return {"policy": {"number": proposal.policy.number, "title": proposal.policy.title}}
    if proposal.mandate_id:
        mandate = proposal.mandate
        return {"mandate": {"kam": _user_name(mandate.kam), "title": mandate.title}}
    if proposal.nominee_id:
        return {"person": _user_name(proposal.nominee)}
    return {}


def decision_subject(kind: str, summary: str, proposal) -> dict:
    """The subject of an old decision's ``summary``, or ``{"text": summary}``."""
    rest = _after_label(summary, kind)
    if rest is not None and kind in CLIENT_TYPES:
        subject = {"client": rest}
    elif rest is not None and proposal.nominee_id:
        subject = {"person": rest}
    else:
        subject = _subject_of(proposal)
    return subject if _said_in_a_language(kind, subject, summary) else {"text": summary}


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _gaps(needs: list) -> list[dict]:
    """The needs not fully met, heaviest shortfall first, as the scorecard names them."""
    lines = []
    for line in needs or []:
        degree = _decimal(line.get("degree"))
        weight = line.get("weight")
        if degree is None or not isinstance(weight, int) or degree >= 1 or weight <= 0:
            continue
        lines.append((-(weight * (1 - degree)), str(line.get("need", "")), weight))
    return [{"need": name, "weight": weight} for _short, name, weight in sorted(lines)[:5]]


def _gates(text: str) -> list[dict]:
    """The gates an old sentence names as not passed, read in English or Russian: each
    "gate not passed: <criterion> <direction> <threshold>"."""
    gates = []
    for language in LANGUAGES:
        with translation.override(language):
            marker = gettext("gate not passed: %(criterion)s") % {"criterion": ""}
            kinds = [(code, str(label)) for code, label in CriterionKind.choices]
            directions = [(code, str(label)) for code, label in Direction.choices]
        for segment in text.rstrip(".").split("; "):
            start = segment.find(marker)
            if start < 0:
                continue
            criterion = segment[start + len(marker) :]
            for (kind, kind_label), (direction, direction_label) in product(kinds, directions):
                prefix = f"{kind_label} {direction_label} "
                if not criterion.startswith(prefix):
                    continue
                number = re.sub(r"[\s\u00a0\u202f]", "", criterion[len(prefix) :])
                number = number.replace(",", "." if language == "ru" else "")
                threshold = _decimal(number)
                if threshold is not None:
                    gates.append(
                        {"kind": kind, "direction": direction, "threshold": str(threshold)}
                    )
                break
        if gates:
            return gates
    return gates


def verdict_data(text: str, evidence: dict) -> dict:
    """The verdict data an old sentence says, or ``{"code": "text", "text": …}``."""
    numbers = {
        "coverage": str(evidence.get("coverage_percent")),
        "threshold": str(evidence.get("threshold_percent")),
    }
    candidates = [{"code": NOT_SCORED}, {"code": MEETS_RULER, **numbers}]
    gates = _gates(text)
    for short in (True, False):
        candidates.append(
            {
                "code": FAILS_RULER,
                **numbers,
                "short": short,
                "unmet": _gaps(evidence.get("needs")) if short else [],
                "gates": gates,
            }
        )
    for candidate in candidates:
        for language in LANGUAGES:
            with translation.override(language):
                if _same(verdict_text(candidate), text):
                    return candidate
    return {"code": TEXT, "text": text}


def _ruler_data(text: str):
    for pattern in (r"^v(\d+) (.*)$", r"^(?P<title>.*), версия (?P<number>\d+)$"):
        match = re.match(pattern, text, re.DOTALL)
        if match:
            groups = match.groupdict() or {"number": match.group(1), "title": match.group(2)}
            return {"number": int(groups["number"]), "title": groups["title"]}
    return text


def evidence_data(evidence: dict) -> dict:
    """An old evidence with its sentences turned to data (a new one is returned as it is)."""
    if not evidence:
        return evidence
    converted = dict(evidence)
    if isinstance(evidence.get("verdict"), str):
        converted["verdict"] = verdict_data(evidence["verdict"], evidence)
    if isinstance(evidence.get("ruler"), str):
        converted["ruler"] = _ruler_data(evidence["ruler"])
    decisions = []
    for line in evidence.get("decisions") or []:
        summary = line.get("summary")
        if "kind" in line or not isinstance(summary, str):
            decisions.append(line)
            continue
        for kind in CLIENT_TYPES:
            rest = _after_label(summary, kind)
            if rest is not None and _said_in_a_language(kind, {"client": rest}, summary):
                decisions.append(
                    {"date": line.get("date"), "kind": kind, "subject": {"client": rest}}
                )
                break
        else:
            decisions.append(line)
    converted["decisions"] = decisions
    return converted


def title_is_auto(title: str, kind: str, subject: dict) -> bool:
    return bool(subject) and _said_in_a_language(kind, subject, title)


def forwards(apps, schema_editor) -> None:
    Decision = apps.get_model("governance", "Decision")
    Proposal = apps.get_model("governance", "Proposal")
    related = ("client", "ruler", "policy", "mandate__kam", "nominee")
    decisions = Decision.objects.select_related(
        *(f"proposal__{name}" for name in related)
    ).order_by("pk")
    changed = []
    for decision in decisions.iterator(chunk_size=BATCH):
        decision.kind = decision.proposal.type
        decision.subject = decision_subject(decision.kind, decision.summary, decision.proposal)
        changed.append(decision)
    Decision.objects.bulk_update(changed, ["kind", "subject"], batch_size=BATCH)
    changed = []
    for proposal in Proposal.objects.select_related(*related).order_by("pk").iterator(BATCH):
        evidence = evidence_data(proposal.evidence)
        auto = title_is_auto(proposal.typed_title, proposal.type, _subject_of(proposal))
        if evidence != proposal.evidence or auto:
            proposal.evidence = evidence
            if auto:
                proposal.typed_title = ""
            changed.append(proposal)
    Proposal.objects.bulk_update(changed, ["evidence", "typed_title"], batch_size=BATCH)


def backwards(apps, schema_editor) -> None:
    """Every converted sentence written again, in English."""
    Decision = apps.get_model("governance", "Decision")
    Proposal = apps.get_model("governance", "Proposal")
    related = ("client", "ruler", "policy", "mandate__kam", "nominee")
    with translation.override("en"):
        changed = []
        for decision in Decision.objects.order_by("pk").iterator(BATCH):
            decision.summary = decision_text(decision.kind, decision.subject)[:300]
            changed.append(decision)
        Decision.objects.bulk_update(changed, ["summary"], batch_size=BATCH)
        changed = []
        for proposal in Proposal.objects.select_related(*related).order_by("pk").iterator(BATCH):
            evidence = dict(proposal.evidence)
            if isinstance(evidence.get("verdict"), dict):
                evidence["verdict"] = verdict_text(evidence["verdict"])
            ruler = evidence.get("ruler")
            if isinstance(ruler, dict):
                evidence["ruler"] = f"v{ruler.get('number')} {ruler.get('title')}"
            if evidence.get("decisions"):
                evidence["decisions"] = [
                    {
                        "date": line.get("date"),
                        "summary": decision_text(line["kind"], line.get("subject") or {}),
                    }
                    if "kind" in line
                    else line
                    for line in evidence["decisions"]
                ]
            title = proposal.typed_title or decision_text(proposal.type, _subject_of(proposal))
            if evidence != proposal.evidence or title != proposal.typed_title:
                proposal.evidence = evidence
                proposal.typed_title = title[:200]
                changed.append(proposal)
        Proposal.objects.bulk_update(changed, ["evidence", "typed_title"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [("governance", "0027_decisions_and_titles_as_data")]

    operations = [migrations.RunPython(forwards, backwards)]
