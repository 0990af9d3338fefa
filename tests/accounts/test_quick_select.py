"""The register's filter selects are written in Python (``accounts.widgets.QuickSelect``): the
markup must be Django's, the chosen option marked, every label and value escaped."""

from __future__ import annotations

import re

import pytest
from django import forms

from accounts.widgets import QuickSelect

CASES = [
    ([("", "Any"), ("a", "A & <b>"), ("b", 'Say "B"')], "a"),
    ([("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Z")], "y"),
    ([("", "Any"), ("true", "Key"), ("false", "Regular")], None),
    ([(1, "One"), (2, "Two")], 2),
]


def compact(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


@pytest.mark.parametrize(("choices", "value"), CASES)
def test_it_writes_what_djangos_select_writes(choices, value) -> None:
    attrs = {"id": "id_f", "required": True, "data-x": "<'>"}
    django_writes = forms.Select(choices=choices).render("f", value, attrs)
    quick_writes = QuickSelect(choices=choices).render("f", value, attrs)

    assert compact(quick_writes) == compact(django_writes)
    assert "<b>" not in quick_writes and "<1>" not in quick_writes


@pytest.mark.django_db
def test_the_register_keeps_the_chosen_filters_after_a_reload(client_as, chair) -> None:
    page = client_as(chair).get("/clients/", {"segment": "enterprise", "is_key": "true"})

    html = compact(page.content.decode())
    assert '<option value="enterprise" selected>' in html
    assert '<option value="true" selected>' in html
