"""The shape of the demo company's texts: every language module fills one ``DemoTexts``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# How many words each pool holds, in every language: the demo draws a position in a pool (the
# same position whatever the language), never a word, so that one seed builds one company in
# every language. A language module whose pool is longer, shorter or repeats a word is refused
# when it is built.
POOL_SIZES = {
    "industries": 10,
    "regions": 10,
    "name_stems": 20,
    "name_trades": 10,
    "legal_forms": 3,
    "relationship_methods": 4,
}


@dataclass(frozen=True)
class DemoTexts:
    language: str
    # username -> (first name, last name, title shown by ``demo_load``)
    people: dict[str, tuple[str, str, str]]
    # username -> (first name, last name) of the team helpers who do not use SKAM
    helpers: dict[str, tuple[str, str]]
    # USP key -> (name, description)
    usps: dict[str, tuple[str, str]]
    # need key -> the need as a client states it
    needs: dict[str, str]
    industries: tuple[str, ...]
    regions: tuple[str, ...]
    name_stems: tuple[str, ...]
    name_trades: tuple[str, ...]
    legal_forms: tuple[str, ...]
    client_name: Callable[[str, str, str], str]  # (stem, trade, legal form) -> name
    # situation key -> (name, procedure)
    situations: dict[str, tuple[str, str]]
    # every other sentence, by key; some carry {placeholders}
    say: dict[str, str]
    relationship_methods: tuple[str, ...]
    # KPI code -> name
    kpis: dict[str, str]
    # obligation key -> title
    obligations: dict[str, str]

    def __post_init__(self) -> None:
        for pool, size in POOL_SIZES.items():
            words = getattr(self, pool)
            if len(words) != size or len(set(words)) != size:
                raise ValueError(
                    f"The {self.language!r} demo's {pool} must be {size} different words; "
                    f"it has {len(set(words))} different of {len(words)}."
                )
