"""SKAM settings: every value comes from the environment, read here and only here.

With no environment at all SKAM runs its embedded default: SQLite in ``var/``, Celery over
kombu's filesystem transport (no broker server), a local-memory cache, and DEBUG on.
Production (``DEBUG=0``) refuses to start without a real ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
``make run`` is the embedded default with DEBUG off on this machine (``DEBUG=0 SKAM_LOCAL=1``):
a secret key generated once into ``var/``, plain HTTP, static files served from their folders.
"""

import datetime
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONCE, NONE, SELF
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


def _kept_secret_key(path: Path) -> str:
    """The key in ``path``, generated there on first use and kept (readable by its owner only).

    web, worker and beat may start at once: the key is written to a file of its own and then
    linked into place, which fails for all but the first, so every process reads the same key.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{os.getpid()}")
        draft.write_text(secrets.token_urlsafe(50))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
DEBUG = _flag("DEBUG", default=True)
# `make run`: served on this machine only, over plain HTTP, with DEBUG off (the product's own
# 404 and 403 pages). Only defaults change; a variable set explicitly still wins.
LOCAL = _flag("SKAM_LOCAL", default=False)
if LOCAL and not env.str("SECRET_KEY", default=""):
    SECRET_KEY = _kept_secret_key(VAR_DIR / "secret_key")
else:
    SECRET_KEY = env.str("SECRET_KEY", default=EMBEDDED_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=LOCAL_HOSTS)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
if LOCAL and set(ALLOWED_HOSTS) - set(LOCAL_HOSTS):
    raise ImproperlyConfigured(
        "SKAM_LOCAL=1 serves this machine only, over plain HTTP: ALLOWED_HOSTS may name "
        f"{', '.join(LOCAL_HOSTS)} only. Run production without SKAM_LOCAL."
    )

if not DEBUG:
    # As strong as `check --deploy` wants it: 50 characters, 5 different, not Django's sample.
    if (
        SECRET_KEY == EMBEDDED_SECRET_KEY
        or len(SECRET_KEY) < 50
        or len(set(SECRET_KEY)) < 5
        or SECRET_KEY.startswith("django-insecure-")
    ):
        raise ImproperlyConfigured(
            "SECRET_KEY must be a random string of at least 50 characters when DEBUG=0."
        )
    if not LOCAL and not env.str("ALLOWED_HOSTS", default=""):
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG=0.")
    if "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must name the hosts, not '*', when DEBUG=0.")
    SESSION_COOKIE_SECURE = _flag("SECURE_COOKIES", default=not LOCAL)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    if _flag("BEHIND_HTTPS_PROXY", default=False):
        # The proxy terminates TLS and says so in X-Forwarded-Proto.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # HTTPS only: plain HTTP is redirected, and browsers are told to use HTTPS for a year.
    # Plain HTTP for a trial: SECURE_SSL_REDIRECT=0 HSTS_SECONDS=0 (check --deploy then warns).
    SECURE_SSL_REDIRECT = _flag("SECURE_SSL_REDIRECT", default=not LOCAL)
    SECURE_HSTS_SECONDS = env.int("HSTS_SECONDS", default=0 if LOCAL else 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = _flag("HSTS_PRELOAD", default=True)

INSTALLED_APPS = [
    # First: its ``changepassword`` replaces auth's (manage.py takes the first app's command).
    "accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # The trigram lookups of the register's search (pg_trgm); inert on SQLite.
    "django.contrib.postgres",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "csp",
    # Ours, bottom of the import chain first: accounts (above) <- criteria <- governance <- skam.
    "criteria",
    "governance",
    "skam",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A 413 for an oversize body before it is read; Permissions-Policy on every response.
    "skam.middleware.RequestLimitsMiddleware",
    # Content-Security-Policy (below) on every response, with a fresh nonce per request.
    "csp.middleware.CSPMiddleware",
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
    # The language a person chose, put back when they sign in on another browser.
    "accounts.language.UserLanguageMiddleware",
    # Who writes, and through which path, for the record's triggers (governance/record/).
    "governance.record.context.RecordOriginMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: turns a locked-out sign-in into its "too many attempts" page.
    "axes.middleware.AxesMiddleware",
]

# Our own files only: no inline script, style or handler runs unless it carries the request's
# nonce ({{ CSP_NONCE }}), nothing from another site, no framing. The browser tests fail on any
# violation (tests/browser/conftest.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Request sizes: a form or API body up to 2.5 MB and 1,000 fields (Django's defaults, stated);
# an upload up to the import's limit and a little for the form around it. Past it: 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 10

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
                "csp.context_processors.nonce",
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
    # are read from the database on every request (Django's ModelBackend): never kept. The
    # cache fails soft (skam/cache.py): with Redis down, sessions come from the database.
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
# Sign-in: axes counts failures per user name and address (the login page, the admin's and the
# token endpoint all go through authenticate()); AXES_FAILURE_LIMIT failures lock that pair out
# for AXES_COOLOFF_MINUTES, logged (logger "axes") and kept in the database for the admin.
# The address is REMOTE_ADDR: behind a proxy that is the proxy's, so the user name decides.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("AXES_COOLOFF_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# A sign-in through the company's provider (accounts/sso.py) is the provider's to guard.
AXES_WHITELIST_CALLABLE = "accounts.sso.axes_leaves_provider_sign_ins"
AXES_VERBOSE = False  # no banner on every manage.py command; the lock-outs are still logged
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Single sign-on with the company's OpenID Connect provider (accounts/sso.py, README), off
# unless OIDC_ISSUER is set. The provider's endpoints come from its discovery document, read
# when first needed, or from OIDC_*_ENDPOINT. Local passwords keep working (the first
# administrator's); a person signed in through the provider once signs in only through it.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="").strip()
SKAM_SSO = bool(OIDC_ISSUER)
# The roles the provider's groups may give: never a committee seat or the chair (the
# committee's decisions), the administrator, staff or superuser (appointed in SKAM).
SSO_MAPPABLE_ROLES = ("kam", "director")


def _sso_role_map(raw: str) -> dict[str, tuple[str, ...]]:
    """``OIDC_ROLE_MAP``: ``group=role`` pairs separated by commas, a role being one of
    ``SSO_MAPPABLE_ROLES``; a group may give more than one role."""
    roles_of: dict[str, list[str]] = {}
    for pair in filter(None, (part.strip() for part in raw.split(","))):
        group, equals, role = (item.strip() for item in pair.rpartition("="))
        if not equals or not group:
            raise ImproperlyConfigured(f"OIDC_ROLE_MAP: {pair!r} is not group=role.")
        if role not in SSO_MAPPABLE_ROLES:
            raise ImproperlyConfigured(
                f"OIDC_ROLE_MAP may give the roles {', '.join(SSO_MAPPABLE_ROLES)} only, not "
                f"{role!r}: committee seats follow the committee's decisions, and the "
                "administrator is appointed in SKAM."
            )
        roles_of.setdefault(group, []).append(role)
    return {group: tuple(roles) for group, roles in roles_of.items()}


if SKAM_SSO:
    if not OIDC_ISSUER.startswith(("https://", "http://")):
        raise ImproperlyConfigured(
            f"OIDC_ISSUER must be an https:// (or, with DEBUG, http://) URL, not {OIDC_ISSUER!r}."
        )
    if not DEBUG and not OIDC_ISSUER.startswith("https://"):
        raise ImproperlyConfigured("OIDC_ISSUER must be an https:// URL when DEBUG=0.")
    OIDC_RP_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
    OIDC_RP_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
    if not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
        raise ImproperlyConfigured("OIDC_ISSUER needs OIDC_CLIENT_ID and OIDC_CLIENT_SECRET.")
    # Explicit endpoints, for a provider without discovery: the first four go together.
    SSO_ENDPOINTS = {
        "authorization_endpoint": env.str("OIDC_AUTHORIZATION_ENDPOINT", default=""),
        "token_endpoint": env.str("OIDC_TOKEN_ENDPOINT", default=""),
        "userinfo_endpoint": env.str("OIDC_USERINFO_ENDPOINT", default=""),
        "jwks_uri": env.str("OIDC_JWKS_ENDPOINT", default=""),
        "end_session_endpoint": env.str("OIDC_END_SESSION_ENDPOINT", default=""),
    }
    _required_endpoints = list(SSO_ENDPOINTS.values())[:4]
    if any(_required_endpoints) and not all(_required_endpoints):
        raise ImproperlyConfigured(
            "Set all of OIDC_AUTHORIZATION_ENDPOINT, OIDC_TOKEN_ENDPOINT, OIDC_USERINFO_ENDPOINT "
            "and OIDC_JWKS_ENDPOINT, or none (they are then read from OIDC_ISSUER's discovery)."
        )
    OIDC_RP_SIGN_ALGO = env.str("OIDC_SIGN_ALGO", default="RS256")
    OIDC_RP_SCOPES = env.str("OIDC_SCOPES", default="openid email profile")
    # What the login page's button says: "Sign in with <OIDC_PROVIDER_NAME>".
    SSO_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="") or OIDC_ISSUER
    # The claim holding the person's groups (``groups``, or a dotted path such as
    # ``realm_access.roles``) and which group gives which role; without them the administrator
    # gives roles in SKAM, as to anyone.
    SSO_ROLE_CLAIM = env.str("OIDC_ROLE_CLAIM", default="").strip()
    SSO_ROLE_MAP = _sso_role_map(env.str("OIDC_ROLE_MAP", default=""))
    if bool(SSO_ROLE_CLAIM) != bool(SSO_ROLE_MAP):
        raise ImproperlyConfigured(
            "OIDC_ROLE_CLAIM and OIDC_ROLE_MAP are set together or not at all."
        )
    # A first sign-in creates the person's account; with 0, the administrator adds them first
    # (and they are linked by e-mail, below, or refused).
    SSO_CREATE_USERS = _flag("OIDC_CREATE_USERS", default=True)
    # Link a first sign-in to an existing local account with the same e-mail address, when the
    # provider says it verified that address; never a superuser, staff, a committee member or
    # the administrator, who keep their password. Off: such a sign-in is refused.
    SSO_LINK_BY_EMAIL = _flag("OIDC_LINK_BY_EMAIL", default=False)
    OIDC_TIMEOUT = env.int("OIDC_TIMEOUT_SECONDS", default=10)
    # Signed-in from the provider: keep its ID token, the hint its end-session page needs.
    OIDC_STORE_ID_TOKEN = True
    OIDC_USE_PKCE = True
    OIDC_AUTHENTICATE_CLASS = "accounts.sso.SignInStartView"
    OIDC_CALLBACK_CLASS = "accounts.sso.SignInCallbackView"
    LOGIN_REDIRECT_URL_FAILURE = "login"
    AUTHENTICATION_BACKENDS = [*AUTHENTICATION_BACKENDS, "accounts.sso.ProviderBackend"]
    # "Log out" (a form) is answered with a redirect to the provider's end of its session,
    # which the Content-Security-Policy's form-action governs too.
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] = [
        SELF,
        *sorted(
            {
                "{0.scheme}://{0.netloc}".format(urlsplit(url))
                for url in (OIDC_ISSUER, SSO_ENDPOINTS["end_session_endpoint"])
                if url
            }
        ),
    ]

LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]


def _language(name: str, *, default: str) -> str:
    """One of LANGUAGES' codes; another value (``LANGUAGE_CODE=de``) stops the start."""
    code = env.str(name, default=default).strip().lower()
    if code not in dict(LANGUAGES):
        known = ", ".join(dict(LANGUAGES))
        raise ImproperlyConfigured(f"{name} must be one of {known}, not {code!r}.")
    return code


# The interface's language when the browser asks for none we have.
LANGUAGE_CODE = _language("LANGUAGE_CODE", default="en")
# The language of the demo company ``make run`` loads: the interface's unless said otherwise.
DEMO_LANGUAGE = _language("SKAM_DEMO_LANGUAGE", default=LANGUAGE_CODE)
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "skam.staticfiles.AppDirectoriesFinder",
]
# Production serves what collectstatic gathered, hashed; DEBUG and `make run` serve the files
# straight from their folders (WhiteNoise, through the finders), with nothing to collect first.
STATIC_COLLECTED = not DEBUG and not LOCAL
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_COLLECTED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Source maps are read by a developer's tools, never by a page: storing them compressed twice
# (gzip and Brotli) only made the image's build slower.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (
    *("jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz", "bz2", "tbz", "xz", "br"),
    *("swf", "flv", "woff", "woff2", "3gp", "3gpp", "asf", "avi", "m4v", "mov", "mp4"),
    *("mpeg", "mpg", "webm", "wmv", "map"),
)
WHITENOISE_USE_FINDERS = not STATIC_COLLECTED
MEDIA_ROOT = VAR_DIR / "media"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="skam@localhost")
# Letters are sent by the worker from the outbox (governance/mail.py); a mail server that
# hangs holds a batch this long per letter, never a request.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# Where SKAM is reached from outside, for links in e-mail.
SKAM_BASE_URL = env.str("SKAM_BASE_URL", default="http://127.0.0.1:8000")
# Webhooks (governance/webhooks.py): an endpoint on a private network or this machine (loopback,
# 10/8, 172.16/12, 192.168/16, fc00::/7) is refused unless this is on — it is in the embedded
# default, for the demo's receiver on 127.0.0.1; link-local and cloud metadata addresses
# (169.254/16, fe80::/10) are refused always. An endpoint failing this many times in a row is
# paused and the administrators told.
SKAM_WEBHOOKS_ALLOW_PRIVATE = _flag("SKAM_WEBHOOKS_ALLOW_PRIVATE", default=DEBUG or LOCAL)
SKAM_WEBHOOK_PAUSE_AFTER = env.int("SKAM_WEBHOOK_PAUSE_AFTER", default=15)
if SKAM_WEBHOOK_PAUSE_AFTER < 1:
    raise ImproperlyConfigured("SKAM_WEBHOOK_PAUSE_AFTER must be 1 or more.")
# The port of the demo's webhook receiver on 127.0.0.1 (``manage.py webhook_receiver``) and of
# the demo endpoint that points at it: `make run` sets it from its own PORT (PORT + 765), so
# two runs on one machine each have their own.
SKAM_DEMO_WEBHOOK_PORT = env.int("SKAM_DEMO_WEBHOOK_PORT", default=8765)
if not 1 <= SKAM_DEMO_WEBHOOK_PORT <= 65535:
    raise ImproperlyConfigured(
        f"SKAM_DEMO_WEBHOOK_PORT must be a port number (1 to 65535), not {SKAM_DEMO_WEBHOOK_PORT}."
    )
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
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A message taken but not acknowledged (its worker killed) is handed out again after
    # this long: past the longest chunk (its time limit is 10 minutes), far below Redis's
    # default of an hour. The runs' watchdog resumes a stalled run sooner (criteria/tasks.py).
    # Reaching a Redis that is down is tried once, not for 6 s, before a send gives up: a web
    # request that queues work answers at once (criteria.tasks.enqueue); Celery's own publish
    # and reconnect retries still apply to the beat and the worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 15 * 60,
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }
CELERY_TASK_ALWAYS_EAGER = _flag("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# Every task is safe to run twice (claims, upserts): one whose worker died is queued again.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
CELERY_TIMEZONE = TIME_ZONE
# One beat sends, however many are started (a lock: skam/beat.py); each send is written to
# the database at once, so a beat taking over knows what was sent.
CELERY_BEAT_SCHEDULER = "skam.beat:SingleBeatScheduler"
CELERY_BEAT_SYNC_EVERY = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    # The token first: its scheme is what a 401 names in WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Knox's, answering in the holder's language when a request names none.
        "accounts.language.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.WriteThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "accounts.filtering.StrictFilterBackend",  # a value it cannot read is a 400
        "rest_framework.filters.SearchFilter",
        "accounts.ordering.KnownOrderingFilter",  # an unknown field is a 400, not ignored
    ],
    "DEFAULT_PAGINATION_CLASS": "accounts.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "skam.openapi.AutoSchema",
    # The domain's refusals (accounts/refusals.py) answered the same way by every endpoint.
    "EXCEPTION_HANDLER": "accounts.api.exception_handler",
}
# Writes through the API per user (or address, signed out) and minute; reads are not counted.
SKAM_API_WRITE_RATE = env.str("API_WRITE_RATE", default="120/minute")
# API tokens (knox): stored as a SHA-512 digest, expire after API_TOKEN_TTL_HOURS; their owner
# lists and revokes them; revoked at logout, password change and deactivation.
REST_KNOX = {
    "TOKEN_TTL": datetime.timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=10)),
    "TOKEN_LIMIT_PER_USER": 10,
    "AUTO_REFRESH": False,
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
    # Clients authenticate with a token; the session cookie is the pages' (and the browsable
    # docs'), not part of the API's contract.
    "AUTHENTICATION_WHITELIST": ["accounts.language.TokenAuthentication"],
    # Every refusal an operation can answer, with its body (skam/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "skam.openapi.require_bodies",
        "skam.openapi.document_refusals",
    ],
    # Two models' "state" and three versions' "status" would otherwise get hashed enum names.
    "ENUM_NAME_OVERRIDES": {
        "ProposalStateEnum": "governance.models.ProposalState",
        "ProposalTypeEnum": "governance.models.ProposalType",
        "VersionStatusEnum": "criteria.models.RulerStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint tells every step of drawing up a board pack at INFO.
        "weasyprint.progress": {"level": "WARNING"},
    },
}

# Demo data: the loader refuses to fill a database that already holds other data unless it is
# the embedded default, so a production database is never seeded by accident.
SKAM_CLIENT_PAGE_SIZE = 25
SKAM_IMPORT_MAX_BYTES = env.int("SKAM_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
SKAM_REQUEST_MAX_BYTES = SKAM_IMPORT_MAX_BYTES + 1024 * 1024
# An .xlsx is a zip: refused before it is read when it unpacks, or says it does, past these.
SKAM_IMPORT_MAX_UNPACKED_BYTES = env.int("SKAM_IMPORT_MAX_UNPACKED_BYTES", default=100 * 1024**2)
SKAM_IMPORT_MAX_CELLS = env.int("SKAM_IMPORT_MAX_CELLS", default=1_000_000)
