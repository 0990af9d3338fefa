"""Take the screenshots listed in docs/screens.md from a running SKAM with its demo company.

    make run                                     # one shell: the English demo on :8000
    .venv/bin/python docs/screenshots.py         # another: the English shots
    SKAM_VAR_DIR=/tmp/skam-ru LANGUAGE_CODE=ru PORT=8001 make run    # the Russian demo
    .venv/bin/python docs/screenshots.py --language ru --base-url http://127.0.0.1:8001

Playwright drives Debian's Chromium (``/usr/bin/chromium``, or ``SKAM_CHROMIUM``); no browser
is downloaded. Each shot is the top of the page as a 1,366 px laptop window shows it (one of My
mandate as a 390 px phone shows it; a path with a ``#fragment``, as the drift panel's, opens
scrolled to that section), in the interface's English or Russian; a PNG past ``--max-kb`` is
reduced to 256 colours, which keeps text sharp.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("SKAM_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "demo"
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Shot:
    name: str
    username: str
    path: str  # "{proposal}" stands for the first open proposal
    language: str = "en"
    viewport: tuple[int, int] = (LAPTOP["width"], LAPTOP["height"])


SHOTS = (
    Shot("home-chair", "chair", "/"),
    Shot("home-member", "member", "/"),
    Shot("home-kam", "kam", "/"),
    Shot("home-director", "director", "/"),
    Shot("home-admin", "admin", "/"),
    Shot("drift-panel", "chair", "/committee/drift/#key-failing"),
    Shot("vote-page", "member", "/committee/proposals/{proposal}/"),
    Shot("vote-page-ru", "member", "/committee/proposals/{proposal}/", language="ru"),
    Shot("my-mandate", "kam", "/committee/my-mandate/"),
    Shot("my-mandate-ru", "kam", "/committee/my-mandate/", language="ru"),
    Shot("my-mandate-phone", "kam", "/committee/my-mandate/", viewport=(390, 844)),
)


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("button.primary[type=submit]").click()
    page.wait_for_url(f"{base_url}/")


def first_open_proposal(page: Page, base_url: str) -> int:
    page.goto(f"{base_url}/api/proposals/?state=open&format=json")
    return json.loads(page.locator("body").inner_text())["results"][0]["id"]


def save(png: bytes, target: Path, max_kb: int) -> int:
    """Write the PNG, reduced to 256 colours when it is past ``max_kb``; its size in KB."""
    if len(png) > max_kb * 1024:
        image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        png = buffer.getvalue()
    target.write_bytes(png)
    return len(png) // 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--max-kb", type=int, default=300)
    parser.add_argument(
        "--language", default="en", choices=["en", "ru"], help="the demo company's language"
    )
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        proposal = None
        for shot in (shot for shot in SHOTS if shot.language == args.language):
            width, height = shot.viewport
            context = browser.new_context(
                viewport={"width": width, "height": height},
                locale=shot.language,
                timezone_id="Europe/Moscow",
            )
            context.add_cookies(
                [{"name": "django_language", "value": shot.language, "url": args.base_url}]
            )
            page = context.new_page()
            log_in(page, args.base_url, shot.username)
            if proposal is None and "{proposal}" in shot.path:
                proposal = first_open_proposal(page, args.base_url)
            page.goto(args.base_url + shot.path.format(proposal=proposal))
            page.wait_for_load_state("networkidle")
            size = save(page.screenshot(), OUT / f"{shot.name}.png", args.max_kb)
            print(f"{shot.name}.png  {size} KB  {shot.username} {shot.path}")
            context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
