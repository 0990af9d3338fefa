"""The ruler's verdict on a client as data, and the sentence it is said with.

A verdict that is kept (a proposal's evidence, frozen when its vote opens) is kept as a code
and its values — ``{"code": "meets_ruler", "coverage": "90.4", "threshold": "75.0"}`` — and
said in the reader's language when it is read, with the numbers in the reader's locale. A
sentence stored by an older SKAM that could not be read back as data is kept as it was
written, as ``{"code": "text", "text": "…"}``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from accounts.numbers import number_text
from criteria.models import RulerCriterion

NOT_SCORED = "not_scored"
MEETS_RULER = "meets_ruler"
FAILS_RULER = "fails_ruler"
TEXT = "text"
CODES = (NOT_SCORED, MEETS_RULER, FAILS_RULER, TEXT)
# The needs a verdict names, at most: the heaviest shortfalls.
UNMET_NAMED = 5


def _percent(value: object) -> str:
    try:
        return number_text(Decimal(str(value)), 1)
    except (InvalidOperation, ValueError):
        return str(value)


def _gate(gate: dict[str, Any]) -> str:
    """A gate not passed, said as the ruler's page says its criterion."""
    try:
        threshold = Decimal(str(gate.get("threshold")))
    except (InvalidOperation, ValueError):
        return str(gate.get("kind", ""))
    return str(
        RulerCriterion(
            kind=gate.get("kind", ""), direction=gate.get("direction", ""), threshold=threshold
        )
    )


def verdict_text(verdict: dict[str, Any] | str | None) -> str:
    """The verdict in plain words, in the active language: what decides it, with its numbers
    in the active locale. A sentence kept as it was written is returned as it is."""
    if not verdict:
        return ""
    if isinstance(verdict, str):
        return verdict
    code = verdict.get("code")
    if code == TEXT:
        return str(verdict.get("text", ""))
    if code == NOT_SCORED:
        return _("Cannot be scored: no needs with a weight are recorded for this client.")
    covered = {
        "covered": _percent(verdict.get("coverage")),
        "threshold": _percent(verdict.get("threshold")),
    }
    if code == MEETS_RULER:
        return (
            _(
                "Meets the ruler: our USPs cover %(covered)s %% of the client's weighted needs "
                "(threshold %(threshold)s %%) and every gate is passed."
            )
            % covered
        )
    reasons = []
    if verdict.get("short"):
        reasons.append(_("covered %(covered)s %% of %(threshold)s %%") % covered)
        unmet = ", ".join(
            _("%(need)s (weight %(weight)s)") % {"need": line["need"], "weight": line["weight"]}
            for line in verdict.get("unmet") or []
        )
        if unmet:
            reasons.append(_("unmet: %(needs)s") % {"needs": unmet})
    for gate in verdict.get("gates") or []:
        reasons.append(_("gate not passed: %(criterion)s") % {"criterion": _gate(gate)})
    return _("Does not meet the ruler: %(reasons)s.") % {"reasons": "; ".join(reasons)}
