"""Russian tax identifiers checked as the tax authority (ФНС) checks them: the INN of an
organisation (10 digits) or of an individual entrepreneur (12 digits) with its check digits, the
KPP (9 characters), and the OGRN (13 digits) or OGRNIP (15 digits) with its check digit.

Each check returns ``None`` for a valid value, or the code of what is wrong, so that the caller
stores the code and renders the sentence in the reader's language when it is read.
"""

from __future__ import annotations

import re

_INN_10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
# Tax office (4 digits), reason (2 digits or capital Latin letters since 2019), number (3 digits).
_KPP = re.compile(r"^\d{4}[0-9A-Z]{2}\d{3}$")


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    total = sum(int(digit) * weight for digit, weight in zip(digits, weights, strict=False))
    return total % 11 % 10


def inn_problem(value: str) -> str | None:
    """``None`` for a valid INN; otherwise ``inn_blank``, ``inn_not_digits``, ``inn_length`` or
    ``inn_check_digit``."""
    if not value:
        return "inn_blank"
    if not value.isascii() or not value.isdigit():
        return "inn_not_digits"
    if len(value) == 10:
        valid = _check_digit(value[:9], _INN_10_WEIGHTS) == int(value[9])
    elif len(value) == 12:
        valid = _check_digit(value[:10], _INN_12_WEIGHTS_11) == int(value[10]) and _check_digit(
            value[:11], _INN_12_WEIGHTS_12
        ) == int(value[11])
    else:
        return "inn_length"
    return None if valid else "inn_check_digit"


def inn_with_check_digits(stem: str) -> str:
    """The valid INN that starts with ``stem`` (9 digits: an organisation's; 10 digits: an
    individual entrepreneur's), for demo and test data."""
    if len(stem) == 9:
        return stem + str(_check_digit(stem, _INN_10_WEIGHTS))
    if len(stem) == 10:
        eleventh = stem + str(_check_digit(stem, _INN_12_WEIGHTS_11))
        return eleventh + str(_check_digit(eleventh, _INN_12_WEIGHTS_12))
    raise ValueError("an INN's stem is 9 or 10 digits")


def kpp_problem(value: str) -> str | None:
    """``None`` for a KPP of the right form; otherwise ``kpp_format``."""
    return None if _KPP.match(value) else "kpp_format"


def ogrn_problem(value: str) -> str | None:
    """``None`` for a valid OGRN (13 digits) or OGRNIP (15 digits); otherwise
    ``ogrn_not_digits``, ``ogrn_length`` or ``ogrn_check_digit``."""
    if not value.isascii() or not value.isdigit():
        return "ogrn_not_digits"
    if len(value) == 13:
        valid = int(value[:12]) % 11 % 10 == int(value[12])
    elif len(value) == 15:
        valid = int(value[:14]) % 13 % 10 == int(value[14])
    else:
        return "ogrn_length"
    return None if valid else "ogrn_check_digit"


def ogrn_inn_mismatch(*, inn: str, ogrn: str) -> bool:
    """An organisation (10-digit INN) has a 13-digit OGRN; an entrepreneur (12-digit INN) a
    15-digit OGRNIP. True when the two name different kinds of taxpayer."""
    return {10: 13, 12: 15}.get(len(inn)) not in (None, len(ogrn))
