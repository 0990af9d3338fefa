"""How Russian the Russian demo reads: the share of Cyrillic among the letters of every page each
role opens, in Russian (goal: over 90 %, data included).

    python bench/cyrillic.py [--below 90]

Uses PostgreSQL (``DATABASE_URL``, default the local server's ``skam_bench_cyrillic`` database,
created and migrated if missing; it must hold no other data). Loads the Russian demo company as
``make run`` does (``demo_load(language="ru")``), in a transaction rolled back at the end, so the
database is left empty. Then every reader (the demo's chair, committee member, KAM, director and
administrator, and someone not signed in yet) opens, in Russian, every page of
``tests/test_permissions.py``'s MATRIX it may open (the list ``tests/skam/test_russian_demo.py``
reads: ``tests/skam/russian_pages.py``), through the whole middleware stack.

For each reader and page it prints two shares of Cyrillic among the page's letters (Latin and
Cyrillic): of all its visible text, data included; and of its text without what is marked as
not Russian prose (``<code>``, an element in another language, ``translate="no"``: the English
column names an import also takes, the switch's "English", a login). Then each reader's pages
together, the pages below ``--below`` percent, and last

    cyrillic readers=R pages=P letters=L overall=A interface=B worst=W <reader> <url>

with A and B the shares over every letter of every page read, and W the lowest page's share of
all its text.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from benchlib import ensure_database, log

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/skam_bench_cyrillic"


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["DJANGO_SETTINGS_MODULE"] = "skam.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    url = os.environ["DATABASE_URL"]
    if not url.startswith(("postgres://", "postgresql://", "pgsql://", "psql://")):
        sys.exit("bench/cyrillic.py needs PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    ensure_database(url)

    import django
    from django.conf import settings

    django.setup()
    # The pages are requested in-process, as Django's test client does.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def letters(text: str) -> tuple[int, int]:
    from tests.skam.russian_pages import CYRILLIC, LATIN

    return len(CYRILLIC.findall(text)), len(LATIN.findall(text))


def share(cyrillic: int, latin: int) -> float:
    return cyrillic / (cyrillic + latin) if cyrillic + latin else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--below", type=float, default=90.0, help="flag pages below this %%")
    options = parser.parse_args()
    setup_django()

    from django.db import transaction

    from skam.demo import DemoRefused, demo_load
    from tests.skam.russian_pages import read_every_page, visible_text

    with transaction.atomic():
        try:
            demo_load(language="ru")
        except DemoRefused as refused:
            sys.exit(f"bench/cyrillic.py: {refused}")
        pages = read_every_page()
        transaction.set_rollback(True)

    totals = [0, 0, 0, 0]  # Cyrillic and Latin letters: all text, then the interface's
    below, worst, count = [], (2.0, "", ""), 0
    log(f"{'reader':10} {'all':>6} {'iface':>6}  page")
    for reader, html_by_url in pages.items():
        mine = [0, 0, 0, 0]
        for url, html in html_by_url.items():
            everything = letters(visible_text(html))
            interface = letters(visible_text(html, interface_only=True))
            page_share = share(*everything)
            log(f"{reader:10} {page_share:6.1%} {share(*interface):6.1%}  {url}")
            for index, value in enumerate((*everything, *interface)):
                mine[index] += value
            if page_share * 100 < options.below:
                below.append(f"{reader} {url} {page_share:.1%}")
            worst = min(worst, (page_share, reader, url))
            count += 1
        log(f"{reader:10} {share(*mine[:2]):6.1%} {share(*mine[2:]):6.1%}  (all its pages)")
        totals = [total + value for total, value in zip(totals, mine, strict=True)]
    log(f"pages below {options.below:g} %: {', '.join(below) if below else 'none'}")
    log(
        f"cyrillic readers={len(pages)} pages={count} letters={totals[0] + totals[1]} "
        f"overall={share(*totals[:2]):.1%} interface={share(*totals[2:]):.1%} "
        f"worst={worst[0]:.1%} {worst[1]} {worst[2]}"
    )


if __name__ == "__main__":
    main()
