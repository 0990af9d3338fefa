"""Russian tax identifiers checked as the tax authority checks them."""

from __future__ import annotations

import random

import pytest

from accounts.taxids import (
    inn_problem,
    inn_with_check_digits,
    kpp_problem,
    ogrn_inn_mismatch,
    ogrn_problem,
)
from skam.demo import _inn


@pytest.mark.parametrize(
    "inn",
    [
        "7707083893",  # Sberbank
        "7736207543",  # Yandex
        "7702070139",  # VTB
        "500100732259",  # an individual entrepreneur's
    ],
)
def test_real_inns_pass(inn: str) -> None:
    assert inn_problem(inn) is None


@pytest.mark.parametrize(
    ("inn", "problem"),
    [
        ("", "inn_blank"),
        ("77012345AB", "inn_not_digits"),
        ("７７０７０８３８９３", "inn_not_digits"),  # full-width digits are not ASCII digits
        ("770708389", "inn_length"),
        ("77070838931", "inn_length"),
        ("7707083894", "inn_check_digit"),  # Sberbank's, last digit mistyped
        ("7707038893", "inn_check_digit"),  # two digits swapped
        ("500100732258", "inn_check_digit"),  # the 12th digit wrong
        ("500100732269", "inn_check_digit"),  # the 11th digit wrong
    ],
)
def test_a_wrong_inn_says_what_is_wrong(inn: str, problem: str) -> None:
    assert inn_problem(inn) == problem


def test_inns_made_for_test_data_are_valid() -> None:
    assert inn_with_check_digits("770708389") == "7707083893"
    assert inn_with_check_digits("5001007322") == "500100732259"
    assert all(inn_problem(inn_with_check_digits(f"77{n:07d}")) is None for n in range(200))


@pytest.mark.parametrize(("kpp", "valid"), [("773601001", True), ("7736AB001", True),
                                            ("77360100", False), ("7736ab001", False),
                                            ("77360100X", False)])  # fmt: skip
def test_kpp_has_nine_characters_of_its_form(kpp: str, valid: bool) -> None:
    assert (kpp_problem(kpp) is None) is valid


@pytest.mark.parametrize(
    ("ogrn", "problem"),
    [
        ("1027700132195", None),  # Sberbank
        ("1027700229193", None),  # Yandex
        ("304500116000157", None),  # an OGRNIP
        ("1027700132196", "ogrn_check_digit"),
        ("304500116000158", "ogrn_check_digit"),
        ("10277001321", "ogrn_length"),
        ("102770013219O", "ogrn_not_digits"),
    ],
)
def test_ogrn_and_ogrnip_check_digits(ogrn: str, problem: str | None) -> None:
    assert ogrn_problem(ogrn) == problem


def test_an_organisation_has_an_ogrn_and_an_entrepreneur_an_ogrnip() -> None:
    assert not ogrn_inn_mismatch(inn="7707083893", ogrn="1027700132195")
    assert not ogrn_inn_mismatch(inn="500100732259", ogrn="304500116000157")
    assert ogrn_inn_mismatch(inn="7707083893", ogrn="304500116000157")
    assert ogrn_inn_mismatch(inn="500100732259", ogrn="1027700132195")


def test_the_demo_companys_inns_pass_the_import_check() -> None:
    rng = random.Random(7)
    assert all(inn_problem(_inn(rng)) is None for _ in range(500))
