"""Titles an older SKAM stored as its suggestion kept unchanged ("Key status for Volga",
«Стратегическая ставка на Kama», "Revisit: Grant key status: Volga") become data on ``migrate``
(governance 0036): said in each reader's language from then on. A title a person changed stays
as typed, and the record still holds."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from accounts.roles import Role
from governance.models import Proposal
from governance.record.verify import record_verify
from tests.factories import ClientFactory, UserFactory
from tests.governance.record.test_prose_migration import _latest, _migrate

BEFORE = [("governance", "0035_merge_screens")]


@pytest.mark.django_db(transaction=True)
def test_kept_suggestions_become_data_and_typed_titles_stay() -> None:
    by = UserFactory(role=Role.COMMITTEE_MEMBER)
    newcomer = UserFactory(first_name="Ivan", last_name="Petrov")
    volga, kama = ClientFactory(name="Volga"), ClientFactory(name="Kama")
    old = _migrate(BEFORE)
    try:
        OldProposal = old.get_model("governance", "Proposal")
        OldDecision = old.get_model("governance", "Decision")

        def proposal(title: str, **fields: object) -> int:
            return OldProposal.objects.create(
                typed_title=title, rationale="Why", proposed_by_id=by.pk, state="adopted", **fields
            ).pk

        english = proposal("Key status for Volga", type="grant_key", client_id=volga.pk)
        russian = proposal(
            "Стратегическая ставка на Kama",
            type="strategic_bet",
            client_id=kama.pk,
            review_date=datetime.date(2027, 6, 1),
        )
        said_now = proposal("Revoke key status: Kama", type="revoke_key", client_id=kama.pk)
        seat = proposal(
            "A seat on the committee for Ivan Petrov",
            type="seat_give",
            nominee_id=newcomer.pk,
            committee_role="sales_director",
        )
        changed = proposal("Key status for Volga, at last", type="grant_key", client_id=volga.pk)
        decision = OldDecision.objects.create(
            proposal_id=english,
            client_id=volga.pk,
            kind="grant_key",
            subject={"client": "Volga"},
            key_status=True,
            effective_date=datetime.date(2026, 3, 1),
        )
        # Suggested in Russian around a decision said in English, before decisions were data.
        revisit = proposal(
            "Пересмотр: Grant key status: Volga",
            type="revoke_key",
            client_id=volga.pk,
            supersedes_id=decision.pk,
        )
        # A revisit titled as SKAM says the type and client: kept, or it would read otherwise.
        revisit_typed = proposal(
            "Revoke key status: Volga",
            type="revoke_key",
            client_id=volga.pk,
            supersedes_id=decision.pk,
        )
    finally:
        _migrate(_latest())

    titles = dict(Proposal.objects.values_list("pk", "typed_title"))
    assert [titles[pk] for pk in (english, russian, said_now, seat, revisit)] == [""] * 5
    assert titles[changed] == "Key status for Volga, at last"
    assert titles[revisit_typed] == "Revoke key status: Volga"
    with translation.override("ru"):
        assert Proposal.objects.get(pk=english).title == "Присвоить статус ключевого: Volga"
        assert Proposal.objects.get(pk=revisit).title == (
            "Пересмотр: Присвоить статус ключевого: Volga"
        )
    with translation.override("en"):
        assert Proposal.objects.get(pk=russian).title == "Strategic bet: Kama"
        assert Proposal.objects.get(pk=seat).title == "Give a seat on the committee: Ivan Petrov"
    verdict = record_verify()
    assert verdict.broken is None, verdict.broken.describe()
