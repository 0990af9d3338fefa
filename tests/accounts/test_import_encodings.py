"""A CSV file is read in its own encoding — UTF-8 with or without a BOM, Windows-1251, KOI8-R or
CP866, each a real file with Russian headers and names — and the check page says which; a
person who sees the names garbled reads the file again in another."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation

from accounts.import_report import import_error_report
from accounts.imports import (
    ImportNotApplicable,
    encoding_detect,
    import_check_run,
    import_encoding_choose,
)
from accounts.models import ImportBatch, ImportEncoding, ImportKind, ImportRow, ImportStatus
from tests.accounts.test_imports import check
from tests.factories import UserFactory

FILES = Path(__file__).parent / "files"
ENCODINGS = {
    "utf-8": ImportEncoding.UTF8,
    "utf-8-bom": ImportEncoding.UTF8_BOM,
    "windows-1251": ImportEncoding.CP1251,
    "koi8-r": ImportEncoding.KOI8_R,
    "cp866": ImportEncoding.CP866,
}
NAMES = [
    "ПАО Волжский металлург",
    "ООО Уральская химия",
    "АО Северное пароходство",
    "ЗАО Тёплый дом",
]


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _file(name: str) -> bytes:
    return (FILES / f"clients-{name}.csv").read_bytes()


def _names(batch: ImportBatch) -> list[str]:
    position = [column for column, _header in batch.columns].index("name")
    return [row.cells[position] for row in ImportRow.objects.filter(batch=batch).order_by("row")]


@pytest.mark.parametrize("name", ENCODINGS)
def test_each_encoding_is_recognised_from_the_file_alone(name) -> None:
    assert encoding_detect(_file(name)) == ENCODINGS[name]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ENCODINGS)
def test_a_russian_file_in_each_encoding_reads_its_headers_and_names(name, administrator, kam):
    batch = check(ImportKind.CLIENTS, _file(name), administrator, f"clients-{name}.csv")

    assert batch.status == ImportStatus.CHECKED, ImportRow.objects.filter(batch=batch).first()
    assert batch.encoding == ENCODINGS[name] and not batch.encoding_chosen
    assert [header for _column, header in batch.columns][:3] == ["ИНН", "Наименование", "Сегмент"]
    assert _names(batch) == NAMES


@pytest.mark.django_db
def test_the_check_page_says_the_encoding_detected(client_as, administrator, kam):
    batch = check(ImportKind.CLIENTS, _file("koi8-r"), administrator, "clients.csv")
    page = client_as(administrator).get(reverse("accounts:import-detail", args=[batch.pk]))
    text = page.content.decode()
    assert "Read as KOI8-R (detected)." in text
    assert "ПАО Волжский металлург" in text
    assert '<option value="koi8-r" selected>KOI8-R</option>' in text


@pytest.mark.django_db
def test_an_encoding_chosen_reads_the_file_again_in_it(client_as, administrator, kam, worker):
    batch = check(ImportKind.CLIENTS, _file("cp866"), administrator, "clients.csv")
    http = client_as(administrator)
    url = reverse("accounts:import-encoding", args=[batch.pk])

    # Read as Windows-1251 the DOS file's letters come out as other letters — its headers are
    # no longer known: the person sees it, and goes back to CP866.
    answer = worker(lambda: http.post(url, {"encoding": "cp1251"}))
    assert answer.status_code == 302
    batch.refresh_from_db()
    assert (batch.encoding, batch.encoding_chosen) == ("cp1251", True)
    assert batch.status == ImportStatus.REJECTED
    page = http.get(reverse("accounts:import-detail", args=[batch.pk])).content.decode()
    assert "Read as Windows-1251, as you chose." in page

    worker(lambda: http.post(url, {"encoding": "cp866"}))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CHECKED and _names(batch) == NAMES


@pytest.mark.django_db
def test_an_encoding_the_file_does_not_read_in_is_said_so(administrator, kam):
    batch = check(ImportKind.CLIENTS, _file("windows-1251"), administrator, "clients.csv")
    import_encoding_choose(batch=batch, encoding=ImportEncoding.UTF8)
    batch = check_again(batch)
    assert batch.status == ImportStatus.REJECTED
    [row] = ImportRow.objects.filter(batch=batch)
    assert row.errors == [{"code": "file_not_in_encoding", "encoding": "UTF-8"}]


def check_again(batch: ImportBatch) -> ImportBatch:
    return import_check_run(batch_id=batch.pk)


@pytest.mark.django_db
def test_the_error_report_of_a_koi8_r_file_is_in_koi8_r(administrator, kam):
    content = _file("koi8-r").replace(b"7707083893", b"77012345AB")
    batch = check(ImportKind.CLIENTS, content, administrator, "clients.csv")
    assert batch.status == ImportStatus.REJECTED
    _name, report = import_error_report(batch=batch)
    lines = report.decode("koi8-r").splitlines()
    assert lines[0].startswith("ИНН;Наименование;") and lines[0].endswith(";Errors")
    assert "ООО Уральская химия" in lines[2] and "is not an INN" in lines[2]


@pytest.mark.django_db
def test_choosing_an_encoding_is_refused_where_it_means_nothing(client_as, administrator, kam):
    batch = check(ImportKind.CLIENTS, _file("utf-8"), administrator, "clients.csv")
    http = client_as(administrator)
    url = reverse("accounts:import-encoding", args=[batch.pk])
    assert http.post(url, {"encoding": "latin-1"}).status_code == 400
    assert http.post(url, {}).status_code == 400
    assert http.get(url).status_code == 405
    outsider = UserFactory()
    assert client_as(outsider).post(url, {"encoding": "cp866"}).status_code == 403
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.APPLIED)
    with pytest.raises(ImportNotApplicable):
        import_encoding_choose(batch=batch, encoding=ImportEncoding.CP866)
    answer: Any = http.post(url, {"encoding": "cp866"}, follow=True)
    assert "was imported already" in answer.content.decode()


@pytest.mark.django_db
def test_another_importer_s_file_is_not_found(client_as, administrator, kam):
    batch = check(ImportKind.CLIENTS, _file("utf-8"), administrator, "clients.csv")
    other = UserFactory()
    other.user_permissions.add(
        Permission.objects.get(codename="import_register", content_type__app_label="accounts")
    )
    answer = client_as(other).post(
        reverse("accounts:import-encoding", args=[batch.pk]), {"encoding": "cp866"}
    )
    assert answer.status_code == 404
    batch.refresh_from_db()
    assert not batch.encoding_chosen
