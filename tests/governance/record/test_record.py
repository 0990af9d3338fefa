"""The tamper-evident record: every governed table's changes land in one append-only,
hash-chained table, with who made them and through which path; ``audit_verify`` names the
first broken link."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client as HttpClient
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import User
from accounts.roles import Role
from governance.committee.proposals import proposal_close, proposal_create, proposal_open, vote_cast
from governance.committee.versions import decision_digest_mismatch
from governance.models import CommitteeMember, CommitteeRole, RecordEntry, Vote
from governance.record.context import Origin, command_origin, process_origin_set, recording_as
from governance.record.governed import GOVERNED, NOT_RECORDED, OUR_APPS, governed_tables
from governance.record.install import TRIGGER, record_install
from governance.record.verify import record_verify
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.time_machine("2026-11-18T12:00+03:00")


def seat(user: User, *, chair: bool = False) -> None:
    CommitteeMember.objects.create(
        user=user,
        committee_role=CommitteeRole.HEAD_OF_KAM if chair else CommitteeRole.SALES_DIRECTOR,
        is_chair=chair,
        active_from=datetime.date(2025, 1, 1),
    )


@pytest.fixture
def committee(chair: User, member: User) -> list[User]:
    seat(chair, chair=True)
    seat(member)
    third = UserFactory(username="third", role=Role.COMMITTEE_MEMBER)
    seat(third)
    return [chair, member, third]


def opened(by: User):
    proposal = proposal_create(
        type="grant_key",
        title="Make Volga key",
        rationale="Because.",
        by=by,
        client=ClientFactory(),
    )
    return proposal_open(proposal=proposal, deadline=timezone.now() + datetime.timedelta(days=7))


def entries_of(instance) -> list[RecordEntry]:
    return list(
        RecordEntry.objects.filter(
            table_name=instance._meta.db_table, row_pk=str(instance.pk)
        ).order_by("pk")
    )


# --- What is recorded ------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_governed_table_has_the_trigger() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %s AND NOT t.tgisinternal",
            [TRIGGER],
        )
        triggered = {name for (name,) in cursor.fetchall()}
    governed = {table.table for table in governed_tables()}
    assert governed - triggered == set()
    assert {"governance_vote", "accounts_client", "accounts_user_groups"} <= governed


def test_every_model_of_ours_is_recorded_or_says_why_not() -> None:
    """A new model is a choice: one line in GOVERNED, or a reason in NOT_RECORDED."""
    named = {label.rsplit(".", 1)[0] if label.count(".") == 2 else label for label in GOVERNED}
    unnamed = [
        model._meta.label
        for app in OUR_APPS
        for model in apps.get_app_config(app).get_models()
        if model._meta.label not in named and model._meta.label not in NOT_RECORDED
    ]
    assert unnamed == []


@pytest.mark.django_db
def test_a_vote_cast_and_changed_is_recorded_before_and_after(committee: list[User]) -> None:
    proposal = opened(committee[0])
    first = vote_cast(proposal=proposal, member=committee[1], choice="for")
    vote_cast(proposal=proposal, member=committee[1], choice="against", comment="Changed.")

    created, superseded = entries_of(first)
    assert created.operation == "I"
    assert created.before is None
    assert created.after["choice"] == "for"
    assert superseded.operation == "U"
    assert (superseded.before["is_current"], superseded.after["is_current"]) == (True, False)
    current = Vote.objects.get(proposal=proposal, is_current=True)
    assert entries_of(current)[0].after["comment"] == "Changed."


@pytest.mark.django_db
def test_a_save_that_changes_nothing_is_no_entry(committee: list[User]) -> None:
    proposal = opened(committee[0])
    count = RecordEntry.objects.count()
    proposal.save()
    assert RecordEntry.objects.count() == count


@pytest.mark.django_db
def test_a_deletion_keeps_what_was_deleted(chair: User) -> None:
    seat(chair)
    seat_row = CommitteeMember.objects.get(user=chair)
    seat_pk = seat_row.pk
    seat_row.delete()
    seat_row.pk = seat_pk
    deleted = entries_of(seat_row)[-1]
    assert (deleted.operation, deleted.after) == ("D", None)
    assert deleted.before["user_id"] == chair.pk


@pytest.mark.django_db
def test_a_password_is_never_copied_and_a_sign_in_is_no_entry(member: User) -> None:
    member.set_password("another secret")
    member.save()
    count = RecordEntry.objects.count()
    member.last_login = timezone.now()
    member.save(update_fields=["last_login"])

    assert RecordEntry.objects.count() == count
    assert all("password" not in (entry.after or {}) for entry in entries_of(member))


@pytest.mark.django_db
def test_roles_given_are_recorded(outsider: User) -> None:
    outsider.groups.add(Group.objects.get(name=Role.DIRECTOR))
    entry = RecordEntry.objects.filter(table_name="accounts_user_groups").latest("pk")
    assert entry.after["user_id"] == outsider.pk


@pytest.mark.django_db
def test_the_record_refuses_update_and_delete(committee: list[User]) -> None:
    opened(committee[0])
    entry = RecordEntry.objects.latest("pk")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        RecordEntry.objects.filter(pk=entry.pk).update(path="api")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        RecordEntry.objects.filter(pk=entry.pk).delete()


@pytest.mark.django_db
def test_installing_again_changes_nothing(committee: list[User]) -> None:
    opened(committee[0])
    count = RecordEntry.objects.count()
    assert record_install() == []
    assert RecordEntry.objects.count() == count
    assert record_verify().broken is None


# --- Who, and through which path --------------------------------------------------------------


@pytest.mark.django_db
def test_a_vote_on_the_page_names_the_member_and_the_page(committee, client_as) -> None:
    proposal = opened(committee[0])
    response = client_as(committee[1]).post(
        f"/committee/proposals/{proposal.pk}/", {"choice": "for", "comment": ""}
    )
    assert response.status_code in (200, 302)
    entry = entries_of(Vote.objects.get(proposal=proposal, member=committee[1]))[0]
    assert (entry.actor_id, entry.path) == (committee[1].pk, "page")
    assert entry.origin == f"POST /committee/proposals/{proposal.pk}/"
    assert len(entry.request_id) == 32


@pytest.mark.django_db
def test_a_vote_through_the_api_by_token_names_the_member_and_the_api(committee) -> None:
    proposal = opened(committee[0])
    _token, key = AuthToken.objects.create(user=committee[2])
    response = HttpClient().post(
        f"/api/proposals/{proposal.pk}/vote/",
        {"choice": "against"},
        content_type="application/json",
        headers={"Authorization": f"Token {key}"},
    )
    assert response.status_code == 200
    entry = entries_of(Vote.objects.get(proposal=proposal, member=committee[2]))[0]
    assert (entry.actor_id, entry.path) == (committee[2].pk, "api")


@pytest.mark.django_db
def test_a_change_in_the_admin_names_the_admin(administrator: User, client_as) -> None:
    target = UserFactory(username="someone")
    client_as(administrator).post(
        f"/admin/accounts/user/{target.pk}/change/",
        {"username": "someone", "first_name": "Some", "last_name": "One", "is_active": "on"},
    )
    changed = entries_of(target)[-1]
    assert (changed.operation, changed.after["first_name"]) == ("U", "Some")
    assert (changed.actor_id, changed.path) == (administrator.pk, "admin")


@pytest.mark.django_db
def test_a_command_and_a_task_are_named(committee: list[User]) -> None:
    process_origin_set(command_origin(["manage.py", "seat_first_committee"]))
    try:
        proposal = opened(committee[0])
    finally:
        process_origin_set(None)
    created = entries_of(proposal)[0]
    assert created.path == "command"
    assert created.origin.startswith("seat_first_committee (")

    with recording_as(Origin(path="worker", origin="governance.tasks.close", request_id="t-1")):
        proposal_close(proposal=proposal)
    closed = entries_of(proposal)[-1]
    assert (closed.path, closed.origin, closed.request_id, closed.actor_id) == (
        "worker",
        "governance.tasks.close",
        "t-1",
        None,
    )


@pytest.mark.django_db
def test_a_rolled_back_write_does_not_lose_who_writes_next(committee: list[User]) -> None:
    proposal = opened(committee[0])
    with recording_as(Origin(path="page", actor_id=committee[1].pk)):
        with pytest.raises(IntegrityError), transaction.atomic():
            vote_cast(proposal=proposal, member=committee[1], choice="for")
            Vote.objects.create(proposal=proposal, member=committee[1], choice="for")
        vote = vote_cast(proposal=proposal, member=committee[1], choice="against")
    entry = entries_of(vote)[0]
    assert (entry.actor_id, entry.path) == (committee[1].pk, "page")


# --- audit_verify ----------------------------------------------------------------------------


@pytest.fixture
def decided(committee: list[User]):
    """A proposal voted and adopted: proposals, votes, a decision, a client made key."""
    proposal = opened(committee[0])
    for user in committee:
        vote_cast(proposal=proposal, member=user, choice="for")
    vote_cast(proposal=proposal, member=committee[2], choice="abstain")
    return proposal_close(proposal=proposal)


def run_verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_audit_verify_passes_on_an_untouched_record(decided) -> None:
    assert "The record holds" in run_verify()


@pytest.mark.django_db
def test_an_entry_edited_by_sql_breaks_the_chain_at_that_entry(decided) -> None:
    vote = Vote.objects.filter(proposal=decided).first()
    entry = entries_of(vote)[0]
    with connection.cursor() as cursor:  # as a superuser would
        cursor.execute("ALTER TABLE governance_recordentry DISABLE TRIGGER USER")
        cursor.execute(
            'UPDATE governance_recordentry SET after = after || \'{"choice": "against"}\' '
            "WHERE id = %s",
            [entry.pk],
        )
        cursor.execute("ALTER TABLE governance_recordentry ENABLE TRIGGER USER")
    with pytest.raises(CommandError, match=f"entry {entry.pk} \\(governance_vote row {vote.pk}\\)"):
        run_verify()


@pytest.mark.django_db
def test_an_entry_removed_by_sql_breaks_the_link_after_it(decided) -> None:
    vote = Vote.objects.filter(proposal=decided).first()
    entry = entries_of(vote)[0]
    following = RecordEntry.objects.filter(pk__gt=entry.pk).order_by("pk").first()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE governance_recordentry DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM governance_recordentry WHERE id = %s", [entry.pk])
        cursor.execute("ALTER TABLE governance_recordentry ENABLE TRIGGER USER")
    verdict = record_verify()
    assert (verdict.broken.kind, verdict.broken.entry_id) == ("link", following.pk)


@pytest.mark.django_db
def test_a_vote_changed_with_the_triggers_off_is_named(decided) -> None:
    vote = Vote.objects.filter(proposal=decided, is_current=True).first()
    with connection.cursor() as cursor:  # a superuser bypassing every trigger
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE governance_vote SET choice = 'against' WHERE id = %s", [vote.pk])
        cursor.execute("SET LOCAL session_replication_role = origin")
    with pytest.raises(CommandError, match=f"governance_vote row {vote.pk} differs"):
        run_verify()


@pytest.mark.django_db
def test_a_row_slipped_in_or_removed_with_the_triggers_off_is_named(decided) -> None:
    vote = Vote.objects.filter(proposal=decided, is_current=True).first()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM governance_vote WHERE id = %s", [vote.pk])
        cursor.execute("SET LOCAL session_replication_role = origin")
    verdict = record_verify()
    assert (verdict.broken.kind, verdict.broken.row_pk) == ("row_gone", str(vote.pk))


@pytest.mark.django_db
def test_a_ballot_changed_after_the_decision_no_longer_gives_its_digest(decided) -> None:
    assert decided.decision.digest
    assert decision_digest_mismatch() is None
    vote = Vote.objects.filter(proposal=decided, is_current=True).first()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE governance_vote SET comment = 'edited' WHERE id = %s", [vote.pk])
        cursor.execute("SET LOCAL session_replication_role = origin")
    assert decision_digest_mismatch() == decided.decision


@pytest.mark.django_db
def test_a_column_another_change_adds_is_recorded_with_no_change_here(decided) -> None:
    vote = Vote.objects.filter(proposal=decided, is_current=True).first()
    with connection.cursor() as cursor:  # as another branch's migration would
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's deferred checks, now
        cursor.execute("ALTER TABLE governance_vote ADD COLUMN weight integer NOT NULL DEFAULT 1")
    assert record_verify().broken is None  # rows recorded before it still match
    with connection.cursor() as cursor:
        cursor.execute("UPDATE governance_vote SET weight = 2 WHERE id = %s", [vote.pk])
    changed = entries_of(vote)[-1]
    assert (changed.before["weight"], changed.after["weight"]) == (1, 2)
    assert record_verify().broken is None
