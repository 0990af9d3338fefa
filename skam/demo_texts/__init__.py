"""What the demo company says, one module per language; ``skam.demo`` builds the same company
(people, roles, seats, accounts, votes) from whichever it is given.

Every text is looked up by a key the structure code names (a username, a USP's key, a
situation's key…), so adding a language means adding a module, never touching the structure.
The demo draws positions in the lists it picks from at random (industries, regions, name
stems…), never their words, and every language's lists are as long (``base.POOL_SIZES``, checked
when a module is built): the same seed then builds the same company in every language.
"""

from __future__ import annotations

from skam.demo_texts import en, ru
from skam.demo_texts.base import DemoTexts

__all__ = ["DemoTexts", "demo_texts"]

TEXTS = {"en": en.TEXTS, "ru": ru.TEXTS}


def demo_texts(language: str) -> DemoTexts:
    """The demo's texts in ``language`` ("en" or "ru"; a regional variant such as "ru-RU" counts
    as its language). Anything else is refused, naming the languages there are."""
    base = language.lower().replace("_", "-").split("-")[0]
    if base not in TEXTS:
        raise ValueError(f"No demo company in {language!r}; there is one in: {', '.join(TEXTS)}.")
    return TEXTS[base]
