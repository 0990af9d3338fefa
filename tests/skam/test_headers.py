"""Every answer carries a Content-Security-Policy with a fresh nonce (no inline script or style
runs without it, nothing from another site) and a Permissions-Policy; no template holds an
inline handler or an unnonced inline script or style; a body past the limits is a 413."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def policy(answer) -> dict[str, list[str]]:
    parts = [part.strip().split() for part in answer["Content-Security-Policy"].split(";")]
    return {part[0]: part[1:] for part in parts if part}


@pytest.mark.parametrize("path", ["/login/", "/", "/api/clients/", "/admin/", "/nowhere/"])
def test_every_answer_carries_both_policies(client_as, director, path) -> None:
    answer = client_as(director).get(path)
    directives = policy(answer)
    assert directives["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "camera=()" in answer["Permissions-Policy"]
    assert "geolocation=()" in answer["Permissions-Policy"]


def test_the_nonce_is_fresh_for_every_page_and_inline_code_carries_it(client_as, chair) -> None:
    http = client_as(chair)
    nonces = set()
    for _ in range(2):
        answer = http.get("/api/docs/")
        (nonce,) = [
            s.removeprefix("'nonce-").rstrip("'")
            for s in policy(answer)["style-src"]
            if s.startswith("'nonce-")
        ]
        nonces.add(nonce)
        html = answer.content.decode()
        for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
            assert "src=" in tag or f'nonce="{nonce}"' in tag, tag
    assert len(nonces) == 2


# Templates drawn into a PDF by the worker (WeasyPrint), never served to a browser: their
# stylesheet is inline because the document must carry it, and no CSP applies to a PDF.
PRINTED_ONLY = {"governance/committee/board_pack.html"}


def test_no_template_holds_inline_code_without_the_nonce() -> None:
    for path in TEMPLATES.rglob("*.html"):
        if str(path.relative_to(TEMPLATES)) in PRINTED_ONLY:
            assert "<script" not in path.read_text()
            continue
        text = path.read_text()
        assert not re.search(r"\son[a-z]+=", text), f"inline handler in {path}"
        assert "hx-on" not in text, f"hx-on needs eval, which the CSP forbids: {path}"
        assert not re.search(r'\sstyle="', text), f"inline style attribute in {path}"
        for tag in re.findall(r"<(?:script|style)\b[^>]*>", text):
            assert "src=" in tag or "CSP_NONCE" in tag or "csp_nonce" in tag, f"{path}: {tag}"


def test_an_oversize_api_body_is_a_413_before_it_is_read(client_as, administrator, settings):
    body = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    answer = client_as(administrator).post("/api/usps/", body, content_type="application/json")
    assert answer.status_code == 413
    assert "larger than SKAM accepts" in answer.json()["detail"]


def test_an_oversize_upload_is_a_413_page(client_as, administrator, settings) -> None:
    settings.SKAM_REQUEST_MAX_BYTES = 1024
    answer = client_as(administrator).post(
        "/clients/imports/", {"kind": "clients", "file": ("c.csv", b"x" * 4096)}
    )
    assert answer.status_code == 413
    assert "Too large" in answer.content.decode()


def test_a_body_within_the_limits_goes_through(client_as, administrator) -> None:
    answer = client_as(administrator).post(
        "/api/usps/",
        {"name": "Fast delivery", "description": "48 h"},
        content_type="application/json",
    )
    assert answer.status_code in {201, 400}  # the view read it, whatever it made of it
    assert "Permissions-Policy" in answer
