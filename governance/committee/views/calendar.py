"""A person's calendar: the page where the subscription address is made, made anew or stopped,
and the address itself, which a calendar application reads without signing in."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from governance.committee.calendar_feed import (
    calendar_feed_find,
    calendar_feed_issue,
    calendar_feed_revoke,
    calendar_of,
)
from governance.committee.ical import ICS_MIMETYPE
from governance.models import CalendarFeed

# The address is shown once, on the page right after it is made; only its digest is stored.
_JUST_MADE = "calendar_feed_address"


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if request.POST.get("action") == "stop":
            if calendar_feed_revoke(user=request.user):
                messages.success(
                    request, _("The address is stopped: calendars reading it get nothing more.")
                )
        else:
            token = calendar_feed_issue(user=request.user, language=get_language())
            path = reverse("governance:calendar-feed", args=[token])
            request.session[_JUST_MADE] = request.build_absolute_uri(path)
            messages.success(
                request, _("Your calendar address is made. Any address made before stops working.")
            )
        return redirect("governance:calendar")
    return render(
        request,
        "governance/committee/calendar.html",
        {
            "feed": CalendarFeed.objects.filter(user=request.user).first(),
            "address": request.session.pop(_JUST_MADE, None),
        },
    )


@require_GET
@never_cache
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The calendar behind a secret address; 404 for an address stopped or never made."""
    feed = calendar_feed_find(token=token)
    if feed is None:
        raise Http404
    response = HttpResponse(calendar_of(feed), content_type=f"{ICS_MIMETYPE}; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="skam.ics"'
    return response
