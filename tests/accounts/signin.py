"""Signing in as a person does: through the login page, so that the lock-out counts it."""

from __future__ import annotations

from django.test import Client as HttpClient


def signed_in(username: str, password: str) -> HttpClient | None:
    """A client signed in through the login form, or None when the form refused."""
    http = HttpClient()
    answer = http.post("/login/", {"username": username, "password": password})
    return http if answer.status_code == 302 else None
