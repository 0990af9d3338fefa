"""Settings fail loudly on an unsafe or malformed environment, and the production shape
(Dockerfile, docker-compose.yml) keeps its structure."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parents[2]
LONG_SECRET_KEY = "x7Lq-0vN2pRk9sWt4yZb8cDf3gHj6mKp1nQr5uVw-Ae6Tz2Yx8Wq4Lm"
CONFIG_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SKAM_LOCAL",
)
APP_SERVICES = ("web", "worker", "beat")


def django_setup(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """Load the settings in a fresh interpreter with exactly these configuration variables."""
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    env.update(DJANGO_SETTINGS_MODULE="skam.settings", SKAM_VAR_DIR=str(tmp_path), **variables)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_secret_key_refuses_to_start(tmp_path: Path) -> None:
    result = django_setup(tmp_path, DEBUG="0", ALLOWED_HOSTS="skam.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_with_a_short_secret_key_refuses_to_start(tmp_path: Path) -> None:
    result = django_setup(tmp_path, DEBUG="0", SECRET_KEY="short", ALLOWED_HOSTS="skam.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start(tmp_path: Path) -> None:
    result = django_setup(tmp_path, DEBUG="0", SECRET_KEY=LONG_SECRET_KEY)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_with_secret_key_and_allowed_hosts_starts(tmp_path: Path) -> None:
    result = django_setup(
        tmp_path, DEBUG="0", SECRET_KEY=LONG_SECRET_KEY, ALLOWED_HOSTS="skam.example.com"
    )
    assert result.returncode == 0, result.stderr


def test_embedded_default_starts_with_no_environment(tmp_path: Path) -> None:
    result = django_setup(tmp_path)
    assert result.returncode == 0, result.stderr


LOCAL_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'key': s.SECRET_KEY, 'redirect': s.SECURE_SSL_REDIRECT, "
    "'hsts': s.SECURE_HSTS_SECONDS, 'secure_cookie': s.SESSION_COOKIE_SECURE, "
    "'hosts': s.ALLOWED_HOSTS, 'static': s.STORAGES['staticfiles']['BACKEND']}))"
)


def local_settings(tmp_path: Path, **variables: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    env.update(DJANGO_SETTINGS_MODULE="skam.settings", SKAM_VAR_DIR=str(tmp_path), **variables)
    result = subprocess.run(
        [sys.executable, "-c", LOCAL_SETTINGS],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_make_run_runs_with_debug_off_and_run_debug_with_it_on() -> None:
    """The processes `make run` starts see DEBUG=0 SKAM_LOCAL=1; `make run-debug` DEBUG=1."""
    for target, mode in (("run", "DEBUG=0 SKAM_LOCAL=1 "), ("run-debug", "DEBUG=1 ")):
        dry_run = subprocess.run(
            ["make", "-n", target], cwd=BASE_DIR, capture_output=True, text=True, timeout=60
        )
        assert dry_run.returncode == 0, dry_run.stderr
        steps = [
            line for line in dry_run.stdout.splitlines() if "manage.py" in line or "honcho" in line
        ]
        assert len(steps) == 3, dry_run.stdout
        assert all(step.startswith(mode) for step in steps), (target, steps)


def test_make_run_generates_a_secret_key_in_var_once_and_keeps_it(tmp_path: Path) -> None:
    first = local_settings(tmp_path, DEBUG="0", SKAM_LOCAL="1")
    assert first["debug"] is False
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first["key"]
    assert len(first["key"]) >= 50 and len(set(first["key"])) >= 5
    assert key_file.stat().st_mode & 0o077 == 0, "the key is readable by its owner only"
    assert local_settings(tmp_path, DEBUG="0", SKAM_LOCAL="1")["key"] == first["key"]
    # Plain HTTP on this machine, static files served without collecting them first.
    assert first["redirect"] is False and first["hsts"] == 0 and first["secure_cookie"] is False
    assert first["hosts"] == ["127.0.0.1", "localhost", "[::1]"]
    assert first["static"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_local_mode_refuses_a_public_host(tmp_path: Path) -> None:
    """SKAM_LOCAL loosens HTTPS for this machine only; it cannot serve a public name."""
    result = django_setup(tmp_path, DEBUG="0", SKAM_LOCAL="1", ALLOWED_HOSTS="skam.example.com")
    assert result.returncode != 0
    assert "SKAM_LOCAL" in result.stderr


def test_production_still_collects_and_redirects(tmp_path: Path) -> None:
    production = local_settings(
        tmp_path, DEBUG="0", SECRET_KEY=LONG_SECRET_KEY, ALLOWED_HOSTS="skam.example.com"
    )
    assert production["redirect"] is True and production["secure_cookie"] is True
    assert production["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert not (tmp_path / "secret_key").exists()


def test_a_debug_value_that_is_neither_yes_nor_no_refuses_to_start(tmp_path: Path) -> None:
    result = django_setup(tmp_path, DEBUG="banana")
    assert result.returncode != 0
    assert "DEBUG must be" in result.stderr


@pytest.mark.parametrize("database_url", ["nonsense://x", "", "localhost:5432/skam"])
def test_malformed_database_url_fails(tmp_path: Path, database_url: str) -> None:
    result = django_setup(tmp_path, DATABASE_URL=database_url)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DATABASE_URL" in result.stderr


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def test_compose_runs_the_five_services(compose: dict) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    for server in ("postgres", "redis"):
        assert services[server]["healthcheck"]["test"]


def command_of(service: dict) -> str:
    command = service["command"]
    return " ".join(command) if isinstance(command, list) else command


def test_compose_commands(compose: dict) -> None:
    services = compose["services"]
    assert command_of(services["web"]).startswith("gunicorn skam.wsgi")
    assert "0.0.0.0:8000" in command_of(services["web"])
    assert command_of(services["worker"]).startswith("celery -A skam worker")
    assert command_of(services["beat"]).startswith("celery -A skam beat")
    assert command_of(services["migrate"]) == "python manage.py migrate --noinput"


def test_compose_app_services_wait_for_servers_and_migrations(compose: dict) -> None:
    services = compose["services"]
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["postgres"]["condition"] == "service_healthy", name
        assert depends_on["redis"]["condition"] == "service_healthy", name
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name


def test_compose_configures_production_from_the_environment(compose: dict) -> None:
    for name in (*APP_SERVICES, "migrate"):
        environment = compose["services"][name]["environment"]
        assert environment["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}", name
        assert str(environment["DEBUG"]) == "0", name
        assert environment["DATABASE_URL"].startswith("postgres://"), name
        assert environment["REDIS_URL"].startswith("redis://redis:6379/"), name
        assert environment["ALLOWED_HOSTS"], name


def test_no_image_floats_on_latest(compose: dict) -> None:
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert bases == ["python:3.11-slim"]
    images = [service["image"] for service in compose["services"].values() if "image" in service]
    for image in [*bases, *images]:
        assert ":" in image and not image.endswith(":latest"), image


def test_dockerfile_runs_gunicorn_as_a_non_root_user() -> None:
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert "collectstatic --noinput" in dockerfile
    assert re.search(r'^CMD \["gunicorn", "skam\.wsgi"', dockerfile, flags=re.MULTILINE)
    assert "EXPOSE 8000" in dockerfile


def test_the_images_static_files_collect_as_the_dockerfile_collects_them(tmp_path: Path) -> None:
    """The production storage hashes every file and rewrites what each one references; a
    reference to a file we do not ship (a library's source map) fails the image's build."""
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="skam.settings",
        SECRET_KEY="collectstatic-only-this-is-not-a-real-secret-key-of-any-kind",
        DEBUG="0",
        ALLOWED_HOSTS="localhost",
        SKAM_VAR_DIR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "static"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    assert "vendor/chartjs/chart-4.6.1.umd.min.js" in manifest
    assert "css/skam.css" in manifest


def manage(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    # Not the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE either, which no deployment sets.
    unset = {*CONFIG_VARIABLES, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(DJANGO_SETTINGS_MODULE="skam.settings", SKAM_VAR_DIR=str(tmp_path), **variables)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {"DEBUG": "0", "SECRET_KEY": LONG_SECRET_KEY, "ALLOWED_HOSTS": "skam.example.com"}


def test_production_settings_pass_the_deployment_check(tmp_path: Path) -> None:
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "no issues" in result.stdout


def test_the_deployment_check_fails_when_https_is_switched_off(tmp_path: Path) -> None:
    """The check above is a real one: plain HTTP without HSTS is flagged."""
    result = manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION,
        SECURE_SSL_REDIRECT="0",
        HSTS_SECONDS="0",
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "skam.example.com,*"}, "ALLOWED_HOSTS"),
        ({"SECRET_KEY": "x7Lq-0vN2pRk9sWt4yZb8cDf3gHj6mKp1nQr5uV"}, "SECRET_KEY"),  # 39
        ({"SECRET_KEY": "ab" * 30}, "SECRET_KEY"),  # long, but 2 different characters
        ({"SECRET_KEY": "django-insecure-" + LONG_SECRET_KEY}, "SECRET_KEY"),
    ],
)
def test_production_refuses_a_weak_key_or_any_host(
    tmp_path: Path, variables: dict[str, str], named: str
) -> None:
    result = django_setup(tmp_path, **{**PRODUCTION, **variables})
    assert result.returncode != 0
    assert named in result.stderr
