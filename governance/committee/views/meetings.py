"""Pages of the committee's meetings — agenda, attendance, printable minutes — and the register
of members' interests. Everyone who follows the committee reads them; its members keep them."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.left_out import page_of
from governance.committee.board_pack import (
    board_pack_request,
    board_packs_of,
    board_packs_visible_to,
)
from governance.committee.forms import AgendaTextForm, InterestForm, MeetingForm
from governance.committee.meetings import (
    agenda_build,
    agenda_item_add,
    agenda_items_of,
    attendance_of,
    attendance_record,
    interest_declare,
    interests_register,
    meeting_create,
    meetings_visible_to,
    members_seated_on,
    minutes,
)
from governance.committee.proposals import named_votes_visible_to
from governance.committee.tasks import draw_up_board_pack
from governance.models import BoardPackKind, BoardPackState, Meeting
from governance.permissions import CHANGE_PROPOSAL, VIEW_DECISION


@login_required
@permission_required(VIEW_DECISION, raise_exception=True)
def meeting_list(request: HttpRequest) -> HttpResponse:
    meetings = meetings_visible_to(request.user).order_by("-held_on", "-pk")
    page, left_out = page_of(Paginator(meetings, 25), request.GET.get("page"))
    return render(
        request, "governance/committee/meeting_list.html", {"page": page, "left_out": left_out}
    )


@login_required
@permission_required(CHANGE_PROPOSAL, raise_exception=True)
def meeting_new(request: HttpRequest) -> HttpResponse:
    form = MeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        meeting = meeting_create(by=request.user, **form.cleaned_data)
        messages.success(request, _("The meeting is scheduled. Build its agenda next."))
        return redirect(meeting)
    return render(request, "governance/committee/meeting_form.html", {"form": form})


@login_required
@permission_required(VIEW_DECISION, raise_exception=True)
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=pk)
    attendance = attendance_of(meeting)
    present = {row.member_id for row in attendance if row.present}
    return render(
        request,
        "governance/committee/meeting_detail.html",
        {
            "meeting": meeting,
            "agenda": agenda_items_of(meeting),
            "seated": [
                (member, member.pk in present) for member in members_seated_on(meeting.held_on)
            ],
            "attendance_recorded": bool(attendance),
            "text_form": AgendaTextForm(),
            "can_keep": request.user.has_perm(CHANGE_PROPOSAL),
            **_packs_context(meeting),
        },
    )


def _packs_context(meeting: Meeting) -> dict[str, object]:
    packs = board_packs_of(meeting)
    return {
        "packs": packs,
        "packs_in_progress": any(pack.in_progress for pack in packs),
        "pack_kinds": BoardPackKind.choices,
        "pack_languages": settings.LANGUAGES,
        "reader_language": get_language(),
    }


@login_required
@permission_required(VIEW_DECISION, raise_exception=True)
def meeting_packs(request: HttpRequest, pk: int) -> HttpResponse:
    """The meeting's board packs: asking for one (POST) and where each stands (the meeting
    page's region, which polls itself while one is being drawn up)."""
    meeting = get_object_or_404(meetings_visible_to(request.user), pk=pk)
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        language = request.POST.get("language") or get_language()
        if kind not in BoardPackKind.values or language not in dict(settings.LANGUAGES):
            raise Http404
        pack, enqueue = board_pack_request(
            meeting=meeting, kind=kind, language=language, by=request.user
        )
        if enqueue:
            transaction.on_commit(lambda: draw_up_board_pack.delay(pack.pk))
        if not request.htmx:
            messages.success(request, _("The worker is drawing it up; it appears here when ready."))
            return redirect(meeting)
    return render(
        request,
        "governance/committee/meeting_detail.html#packs",
        {"meeting": meeting, **_packs_context(meeting)},
    )


@login_required
@permission_required(VIEW_DECISION, raise_exception=True)
def meeting_pack_download(request: HttpRequest, pk: int, kind: str, language: str) -> FileResponse:
    """The PDF, for whoever may see the meeting; 404 until it is ready."""
    pack = get_object_or_404(
        board_packs_visible_to(request.user).select_related("meeting"),
        meeting_id=pk,
        kind=kind,
        language=language,
        state=BoardPackState.READY,
    )
    return FileResponse(
        pack.file.open("rb"),
        as_attachment=True,
        filename=pack.filename(),
        content_type="application/pdf",
    )


@login_required
@permission_required(CHANGE_PROPOSAL, raise_exception=True)
@require_POST
def meeting_agenda_build(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=pk)
    added = agenda_build(meeting=meeting)
    if added:
        messages.success(
            request,
            ngettext(
                "%(count)s item added to the agenda.", "%(count)s items added to the agenda.", added
            )
            % {"count": added},
        )
    else:
        messages.success(request, _("Nothing new for the agenda."))
    return redirect(meeting)


@login_required
@permission_required(CHANGE_PROPOSAL, raise_exception=True)
@require_POST
def meeting_agenda_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=pk)
    form = AgendaTextForm(request.POST)
    if form.is_valid():
        agenda_item_add(meeting=meeting, text=form.cleaned_data["text"])
        messages.success(request, _("The item is on the agenda."))
    else:
        messages.error(request, _("Write what the committee is to discuss."))
    return redirect(meeting)


@login_required
@permission_required(CHANGE_PROPOSAL, raise_exception=True)
@require_POST
def meeting_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=pk)
    present = [value for value in request.POST.getlist("present") if value.isdigit()]
    try:
        attendance_record(meeting=meeting, present_ids=[int(value) for value in present])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Attendance is recorded."))
    return redirect(meeting)


@login_required
@permission_required(VIEW_DECISION, raise_exception=True)
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting, pk=pk)
    return render(
        request,
        "governance/committee/meeting_minutes.html",
        {
            "minutes": minutes(meeting=meeting),
            "named_votes": named_votes_visible_to(request.user),
        },
    )


@login_required
@permission_required(VIEW_DECISION, raise_exception=True)
def interest_register(request: HttpRequest) -> HttpResponse:
    """Everyone who follows the committee reads the register; a member declares own interests."""
    can_declare = request.user.has_perm(CHANGE_PROPOSAL)
    form = InterestForm(request.POST or None)
    if request.method == "POST":
        if not can_declare:
            raise PermissionDenied
        if form.is_valid():
            interest_declare(member=request.user, **form.cleaned_data)
            messages.success(request, _("Your interest is in the register."))
            return redirect("governance:interest-register")
    return render(
        request,
        "governance/committee/meeting_interests.html",
        {"interests": interests_register(), "form": form, "can_declare": can_declare},
    )
