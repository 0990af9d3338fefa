"""SKAM settings: every value comes from the environment, read here and only here.

With no environment at all SKAM runs its embedded default: SQLite in ``var/``, Celery over
kombu's filesystem transport (no broker server), a local-memory cache, and DEBUG on.
Production (``DEBUG=0``) refuses to start without a real ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
VAR_DIR = Path(env.str("SKAM_VAR_DIR", default=str(BASE_DIR / "var")))

EMBEDDED_SECRET_KEY = "embedded-default-not-for-production"


def _flag(name: str, *, default: bool) -> bool:
    """A yes/no variable; a value that is neither (``DEBUG=banana``) stops the start."""
    raw = env.str(name, default="").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off, not {raw!r}.")


DEBUG = _flag("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=EMBEDDED_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

if not DEBUG:
    if SECRET_KEY == EMBEDDED_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random string of at least 32 characters when DEBUG=0."
        )
    if not env.str("ALLOWED_HOSTS", default=""):
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG=0.")
    SESSION_COOKIE_SECURE = _flag("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    if _flag("BEHIND_HTTPS_PROXY", default=False):
        # The proxy terminates TLS and says so in X-Forwarded-Proto.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    # Ours, bottom of the import chain first: accounts <- criteria <- governance <- skam.
    "accounts",
    "criteria",
    "governance",
    "skam",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # An ETag on every GET answer, and "304 Not Modified" when the client has it already: a
    # client polling the API's dashboards or lists is not sent the same figures again. Pages
    # carry a fresh CSRF token each time, so they are always sent; nothing is kept server-side.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "skam.urls"
WSGI_APPLICATION = "skam.wsgi.application"
ASGI_APPLICATION = "skam.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "skam.context_processors.navigation",
            ],
        },
    },
]

_database_url = env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'skam.sqlite3'}")
_database_scheme = _database_url.partition("://")[0]
if _database_scheme not in {"sqlite", "postgres", "postgresql", "pgsql", "psql"}:
    # Fail here, naming the variable, rather than later with a KeyError or a backend ImportError.
    raise ImproperlyConfigured(
        f"DATABASE_URL must be a sqlite:// or postgres:// URL (got scheme {_database_scheme!r})."
    )
DATABASES = {"default": env.db_url_config(_database_url)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # The embedded default shares one SQLite file between web, worker and beat.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "skam.cache.RedisCache", "LOCATION": REDIS_URL}}
    # Sessions are read from the cache every process shares and written through to the
    # database, so a Redis restart or eviction signs nobody out. The user and their permissions
    # are read from the database on every request (Django's ModelBackend): never kept.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    # Each process's own memory: sessions stay in the database (Django's default), as a
    # sign-out kept in one process's memory would not reach the others.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="skam@localhost")
# Where SKAM is reached from outside, for links in e-mail.
SKAM_BASE_URL = env.str("SKAM_BASE_URL", default="http://127.0.0.1:8000")
# The company's one currency: every amount SKAM shows carries its ISO 4217 code.
SKAM_CURRENCY = env.str("SKAM_CURRENCY", default="RUB").strip().upper()
if not (len(SKAM_CURRENCY) == 3 and SKAM_CURRENCY.isascii() and SKAM_CURRENCY.isalpha()):
    raise ImproperlyConfigured(
        f"SKAM_CURRENCY must be a three-letter ISO 4217 code such as RUB, not {SKAM_CURRENCY!r}."
    )

# Celery: Redis in production; with no broker configured, kombu's filesystem transport, so
# the embedded default runs a real worker and beat without any server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        # Without it kombu keeps its exchange tables in ./control, relative to the cwd.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    for _folder in ("processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = _flag("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # The domain's refusals (accounts/refusals.py) answered the same way by every endpoint.
    "EXCEPTION_HANDLER": "accounts.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SKAM API",
    "DESCRIPTION": "Strategic key-account management: clients, the ruler, the committee.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Demo data: the loader refuses to fill a database that already holds other data unless it is
# the embedded default, so a production database is never seeded by accident.
SKAM_CLIENT_PAGE_SIZE = 25
SKAM_IMPORT_MAX_BYTES = env.int("SKAM_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
