"""A proposal's title that is the one the new-proposal flow suggested, kept unchanged, becomes
blank: said from then on in each reader's language (``Proposal.title``), from the proposal's
type and subject, or, for a proposal that revisits a decision, from that decision.

Recognised, in English or Russian (the suggestion was said in the proposer's language, its
subject — a ruler's title, a decision — possibly in another):

* the flow's earlier suggestions ("Key status for ACME", «Статус ключевого клиента для ACME»,
  "Exception for ACME, asked by Ivan Petrov"…), written out below as they were said: the code
  no longer says them;
* the title SKAM says now ("Grant key status: ACME"), which the flow suggests from now on;
* on a proposal that revisits a decision, only "Revisit: <the decision>" («Пересмотр: …»): a
  revisit titled otherwise keeps its title, which would otherwise be said differently.

Anything else (typed, or edited) is kept as typed. Titles are in no digest (a decision's digest
covers ballots, rule and what was adopted; a version's content its own fields), so none is
recomputed; the changed rows go through the record's triggers like any other change, so
``audit_verify`` still holds.

Not reversed: going back leaves the titles blank, which the earlier code says from the type and
subject as well.
"""

from __future__ import annotations

from django.db import migrations
from django.utils import translation

from governance.models.committee import decision_text, subject_text

LANGUAGES = ("en", "ru")
BATCH = 500
RELATED = (
    "client",
    "ruler",
    "policy",
    "mandate__kam",
    "nominee",
    "exception_request__client",
    "exception_request__requested_by",
    "supersedes",
)

# The flow's suggestions before this migration, per language, by proposal type.
EARLIER_SUGGESTIONS = {
    "en": {
        "grant_key": "Key status for %(subject)s",
        "strategic_bet": "Strategic bet on %(subject)s",
        "revoke_key": "Revoke the key status of %(subject)s",
        "adopt_ruler": "Adopt the ruler %(subject)s",
        "adopt_policy": "Adopt the policy %(subject)s",
        "grant_mandate": "Put in force the mandate %(subject)s",
        "seat_give": "A seat on the committee for %(subject)s",
        "seat_end": "End the seat of %(subject)s",
        "chair": "%(subject)s chairs the committee",
    },
    "ru": {
        "grant_key": "Статус ключевого клиента для %(subject)s",
        "strategic_bet": "Стратегическая ставка на %(subject)s",
        "revoke_key": "Снять статус ключевого клиента с %(subject)s",
        "adopt_ruler": "Принять линейку %(subject)s",
        "adopt_policy": "Принять политику %(subject)s",
        "grant_mandate": "Ввести в силу мандат %(subject)s",
        "seat_give": "Место в комитете для %(subject)s",
        "seat_end": "Прекратить членство в комитете: %(subject)s",
        "chair": "%(subject)s — председатель комитета",
    },
}
EARLIER_EXCEPTION = {
    "en": "Exception for %(client)s, asked by %(kam)s",
    "ru": "Исключение для %(client)s, запросил %(kam)s",
}
REVISIT = {"en": "Revisit: %(decision)s", "ru": "Пересмотр: %(decision)s"}


def _user_name(user) -> str:
    return f"{user.first_name} {user.last_name}".strip() or user.username


def _ruler_title(ruler) -> object:
    """``RulerVersion.title_data``: the typed title, or the kind and values SKAM titled it by."""
    if ruler.typed_title or not ruler.title_kind:
        return ruler.typed_title
    return {"kind": ruler.title_kind, **ruler.title_values}


def subject_of(proposal) -> dict:
    """``Proposal.subject()`` on a historical row."""
    if proposal.client_id:
        return {"client": proposal.client.name}
    if proposal.ruler_id:
        return {"ruler": {"number": proposal.ruler.number, "title": _ruler_title(proposal.ruler)}}
    if proposal.policy_id:
        return {"policy": {"number": proposal.policy.number, "title": proposal.policy.title}}
    if proposal.mandate_id:
        mandate = proposal.mandate
        return {"mandate": {"kam": _user_name(mandate.kam), "title": mandate.title}}
    if proposal.nominee_id:
        return {"person": _user_name(proposal.nominee)}
    if proposal.exception_request_id:
        request = proposal.exception_request
        return {
            "exception": {
                "id": request.pk,
                "client": request.client.name,
                "kam": _user_name(request.requested_by),
            }
        }
    return {}


def _said(language: str, say) -> str:
    with translation.override(language):
        return say()


def suggestions(proposal) -> set[str]:
    """Every title SKAM suggested or says for ``proposal``, in English or Russian."""
    said: set[str] = set()
    if proposal.supersedes_id:
        decision = proposal.supersedes
        for language in LANGUAGES:
            summary = _said(language, lambda: decision_text(decision.kind, decision.subject))
            said |= {REVISIT[frame] % {"decision": summary} for frame in LANGUAGES}
        return said
    subject = subject_of(proposal)
    if not subject:
        return said
    for language in LANGUAGES:
        said.add(_said(language, lambda: decision_text(proposal.type, subject)))
        name = _said(language, lambda: subject_text(subject))
        for frame in LANGUAGES:
            if "exception" in subject:
                said.add(
                    EARLIER_EXCEPTION[frame]
                    % {"client": subject["exception"]["client"], "kam": subject["exception"]["kam"]}
                )
            elif proposal.type in EARLIER_SUGGESTIONS[frame]:
                said.add(EARLIER_SUGGESTIONS[frame][proposal.type] % {"subject": name})
    return said


def forwards(apps, schema_editor) -> None:
    Proposal = apps.get_model("governance", "Proposal")
    changed = []
    proposals = Proposal.objects.exclude(typed_title="").select_related(*RELATED).order_by("pk")
    for proposal in proposals.iterator(chunk_size=BATCH):
        if proposal.typed_title.strip() in suggestions(proposal):
            proposal.typed_title = ""
            changed.append(proposal)
    Proposal.objects.bulk_update(changed, ["typed_title"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0035_merge_screens"),
        ("criteria", "0010_ruler_titles_as_data"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
