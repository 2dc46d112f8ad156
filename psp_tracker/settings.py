"""PSP Tracker settings: every deployment choice read from the environment (through env.py).

Each variable is documented in README.md and .env.example. A bad value stops start-up with a message
that names the variable, rather than running with a guess.
"""

import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_float, env_int, env_list, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off; "
            "set it to a long random string (see .env.example)."
        )
    # Local development only: DEBUG is on, so this key never protects a public site.
    SECRET_KEY = "insecure-local-development-key-not-for-production"

# Host names, and host:port pairs: a Host header carrying a port is accepted only when that exact
# pair is listed (psp_tracker/guards.py), so a client cannot make the site build links to another port.
_HOST_ENTRIES = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
ALLOWED_HOST_PORTS = [h for h in _HOST_ENTRIES if h.rpartition(":")[2].isdigit() and not h.endswith("]")]
ALLOWED_HOSTS = list(
    dict.fromkeys(h.rpartition(":")[0] if h in ALLOWED_HOST_PORTS else h for h in _HOST_ENTRIES)
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# A failed CSRF check under /api/ is a problem-details 403, like every API error (issue 16).
CSRF_FAILURE_VIEW = "psp_tracker.errors.csrf_failure"
# The site's public origin (https://psp.example.org): when set, absolute URLs in API bodies and feeds
# are built from it, never from the request's Host header (psp_tracker/guards.py).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL").strip().rstrip("/")
if PUBLIC_BASE_URL and (
    not PUBLIC_BASE_URL.startswith(("http://", "https://")) or "/" in PUBLIC_BASE_URL.split("://", 1)[1]
):
    raise ImproperlyConfigured(
        f"PUBLIC_BASE_URL={PUBLIC_BASE_URL!r} must be an origin such as https://psp.example.org (no path)."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "jurisdictions",
    # Reference states, counties and places, and the map (issue 18).
    "geography",
    # Issue 17: the task queue (django-tasks with its database backend) and push alerts.
    "django_tasks",
    "django_tasks_db",
    "alerts",
]

MIDDLEWARE = [
    # First, so that every log line and response, even an error, carries the request id.
    "psp_tracker.middleware.RequestIdMiddleware",
    # CSP, X-Frame-Options, nosniff on every response, static files and error pages included.
    "psp_tracker.guards.SecurityHeadersMiddleware",
    # The Host's port must be listed exactly; TRACE refused; public pages answer GET/HEAD/OPTIONS.
    "psp_tracker.guards.StrictHostMiddleware",
    "psp_tracker.guards.MethodPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Right after SecurityMiddleware, as WhiteNoise asks: static files skip the rest of the stack.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Turns a lost database connection into a clean 503 page or JSON body (see the module).
    "psp_tracker.middleware.DatabaseUnavailableMiddleware",
    # Reads the data version (one query) at most once per request.
    "jurisdictions.cache.DataVersionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Issue 19: after the session, before CommonMiddleware (Django's documented place). The language
    # comes from the URL only (/es/...; unprefixed is English), never from a cookie or
    # Accept-Language, so a cached page is the same for everyone who asks for that URL.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Anonymous clients: PUBLIC_RATE pages and PUBLIC_CSV_RATE CSV downloads per address (429).
    "psp_tracker.ratelimit.AnonymousRateLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "psp_tracker.urls"

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
                "jurisdictions.context_processors.site_footer",
            ],
        },
    },
]

WSGI_APPLICATION = "psp_tracker.wsgi.application"

# SQLite in the project folder by default, so a fresh checkout runs with nothing else installed.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
try:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
# Behind PgBouncer's transaction pooling a cursor cannot outlive its transaction: then
# QuerySet.iterator() and the CSV export read without server-side cursors (docs/deploy.md).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DB_DISABLE_SERVER_SIDE_CURSORS", False)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Password guessing: django-axes counts failed logins per user name and client address and refuses
# that pair for AXES_COOLOFF_TIME after AXES_FAILURE_LIMIT failures; the lockout then expires by
# itself, and a successful login clears the count. AxesStandaloneBackend must come first.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("DJANGO_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DJANGO_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The lockout runs from the failure that caused it: attempts during it are refused without being
# recorded, so hammering the form does not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The same client address as the API throttles (see DJANGO_NUM_PROXIES below).
AXES_CLIENT_IP_CALLABLE = "psp_tracker.middleware.client_ip"

# Issue 19: English at the current URLs, Spanish under /es/ (psp_tracker/urls.py). The catalogue is
# locale/es/LC_MESSAGES/django.po with its compiled .mo committed beside it (README, "Languages").
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]  # the switcher shows each in its own language
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))

# WhiteNoise serves static files from the app (no separate web server), compressed and under names
# carrying a hash of their content so browsers may cache them for a year. The hashed names come from
# the manifest that `collectstatic` writes, so that storage is used only where collectstatic runs
# first: production (debug off). Debug runs and the test suite, which never run collectstatic, use
# plain storage: keying this on "pytest is loaded" rather than on an extra variable means no test
# and no developer can forget to set it, and the production path is still tested for real, because
# tests/test_deploy.py runs collectstatic and gunicorn in fresh interpreters without pytest.
TESTING = "pytest" in sys.modules or sys.argv[1:2] == ["test"]
STATIC_MANIFEST = env_bool("DJANGO_STATIC_MANIFEST", not DEBUG and not TESTING)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Without collected files WhiteNoise serves straight from static/ and the apps' folders, looking
# them up per request.
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = not STATIC_MANIFEST

# HTTPS-only hardening; on by default whenever debug is off. DJANGO_SECURE=0 serves plain HTTP
# (a private network, or TLS ended elsewhere without forwarding the scheme).
SECURE = env_bool("DJANGO_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = SECURE
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000) if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
if env_bool("DJANGO_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# The container healthcheck calls these over plain HTTP from inside the container.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Content-Security-Policy: every script, style, font, image and request comes from our own origin
# (no CDN, no inline script or style). `data:` images are the one exception, for the small SVG icons
# that Swagger UI in the API docs embeds; they run no code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# How many reverse proxies (load balancer, TLS proxy) stand in front of gunicorn and append to
# X-Forwarded-For. The client address is the entry that the outermost proxy added; anything before it
# was sent by the client and is ignored. 0 (the default) trusts no header and uses the socket's peer,
# which is right when gunicorn faces the internet. Used by the API throttles and the login lockout.
NUM_PROXIES = env_int("DJANGO_NUM_PROXIES", 0)

# The shared cache (psp_tracker/cache_backends.py): cached public responses in Redis when REDIS_URL is
# set, and the throttle counters in REDIS_COUNTERS_URL (a Redis that evicts nothing, so that cached
# pages cannot push counters out; REDIS_URL when unset). Redis is an accelerator only: short
# timeouts, and when it fails the site serves from the database and counts throttles per process.
# Without REDIS_URL each process keeps its own memory.
REDIS_URL = env_str("REDIS_URL")
REDIS_COUNTERS_URL = env_str("REDIS_COUNTERS_URL", REDIS_URL)
for _name, _url in (("REDIS_URL", REDIS_URL), ("REDIS_COUNTERS_URL", REDIS_COUNTERS_URL)):
    if _url and not _url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"{_name}={_url!r} is not a redis:// URL.")
REDIS_OPTIONS = {
    # Seconds: a paused or unreachable Redis costs at most this, once per RETRY_SECONDS per process.
    "socket_connect_timeout": env_float("REDIS_CONNECT_TIMEOUT", 0.25),
    "socket_timeout": env_float("REDIS_TIMEOUT", 0.25),
    "RETRY_SECONDS": env_float("REDIS_RETRY_SECONDS", 5.0),
}


def _cache(url, prefix):
    if not url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": prefix}
    return {
        "BACKEND": "psp_tracker.cache_backends.ResilientRedisCache",
        "LOCATION": url,
        "KEY_PREFIX": prefix,
        "OPTIONS": dict(REDIS_OPTIONS),
    }


_CACHE_PREFIX = env_str("DJANGO_CACHE_PREFIX", "psp")
CACHES = {
    "default": _cache(REDIS_URL, _CACHE_PREFIX),
    "throttle": _cache(REDIS_COUNTERS_URL, f"{_CACHE_PREFIX}-counters"),
}

# Anonymous rate limits (psp_tracker/ratelimit.py): every page, feed and CSV download per client
# address; a reader clicking around never comes near them.
PUBLIC_RATE = env_rate("PUBLIC_RATE", "300/minute")
PUBLIC_CSV_RATE = env_rate("PUBLIC_CSV_RATE", "30/minute")
# Issue 14: error reports sent through the public form, per client address (beyond it: 429).
ERROR_REPORT_RATE = env_rate("ERROR_REPORT_RATE", "5/hour")

REST_FRAMEWORK = {
    "NUM_PROXIES": NUM_PROXIES,
    # DRF's JSON, written by orjson (same bytes, several times faster; docs/performance.md).
    "DEFAULT_RENDERER_CLASSES": [
        "jurisdictions.api.renderers.FastJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # Writes take JSON only: the schema documents one body format, which refuses unknown fields.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # django-filter's, with a slug that names no record a 404 (jurisdictions/api/filtering.py).
    "DEFAULT_FILTER_BACKENDS": ["jurisdictions.api.filtering.ApiFilterBackend"],
    # page and page_size: 50 by default, at most 500 (see the module).
    "DEFAULT_PAGINATION_CLASS": "jurisdictions.api.pagination.ApiPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every API error as problem details (RFC 9457), JSON whatever format was asked.
    "EXCEPTION_HANDLER": "jurisdictions.api.errors.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "psp_tracker.throttles.AnonRateThrottle",
        "psp_tracker.throttles.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("API_ANON_RATE", "1000/hour"),
        "user": env_rate("API_USER_RATE", "10000/hour"),
    },
}

# The licence stated in the bulk data package (/downloads/datapackage.json), the same one the
# methodology page states: the data are facts compiled from public documents, each cited;
# attribution is asked for, nothing more.
DATA_PACKAGE_LICENSE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0 International",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "PSP Tracker API",
    "DESCRIPTION": (
        "Which US jurisdictions take part in federal law-enforcement partnership programs, "
        "what each certified, and the history of their status."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for the status choices, which the enrollments and the change feed share.
    "ENUM_NAME_OVERRIDES": {
        "EnrollmentStatusEnum": "jurisdictions.models.EnrollmentStatus",
        # Issue 14: a source's kind and a jurisdiction's kind are two choice sets named "kind".
        "JurisdictionKindEnum": "jurisdictions.models.JurisdictionKind",
        "SourceKindEnum": "jurisdictions.models.SourceKind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "jurisdictions.api.urls.describe_id_parameters",
        # Problem-details errors, conditional requests, empty values, closed bodies, public reads.
        "jurisdictions.api.schema.complete_contract",
    ],
}

# One JSON object per line on stdout, each with the request id of the request that logged it, so a
# log collector can index the fields and follow one request across lines (and across containers,
# since the id comes from the proxy's X-Request-ID when it sends one). DJANGO_LOG_FORMAT=text gives
# plain lines for reading in a terminal.
LOG_LEVEL = env_str("DJANGO_LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_str("DJANGO_LOG_FORMAT", "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"DJANGO_LOG_FORMAT={LOG_FORMAT!r} must be json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "psp_tracker.middleware.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "psp_tracker.middleware.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Our request log replaces django.server's and django.request's lines for the same event.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "ERROR"},
        # Lockouts are warnings; its start-up banner and per-attempt notes would crowd stdout.
        "axes": {"level": "WARNING"},
        # Requests for other host names (scanners) are refused with a 400, which the request log
        # records; Django would add a traceback at ERROR level for each.
        "django.security.DisallowedHost": {"level": "CRITICAL"},
    },
}


# --- Issue 17: task queue, webhooks and e-mail alerts (alerts/, docs/webhooks.md) ----------------
# The queue lives in the database (django-tasks-db): no server beyond the one database; the worker
# is `manage.py run_worker` (compose's `worker` service, started beside runserver by `make run`).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# Webhook targets on loopback or private networks are refused unless allowed (development, tests);
# plain http:// targets likewise.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", DEBUG)
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10.0)
# A worker that dies mid-POST leaves its claim; another takes the delivery this long after the timeout.
WEBHOOK_CLAIM_MARGIN_SECONDS = env_float("WEBHOOK_CLAIM_MARGIN_SECONDS", 30.0)
# Retries: exponential backoff from WEBHOOK_BACKOFF_SECONDS (doubling, capped at an hour, with
# jitter) for WEBHOOK_RETRY_HOURS, then the subscription is flagged.
WEBHOOK_BACKOFF_SECONDS = env_float("WEBHOOK_BACKOFF_SECONDS", 10.0)
WEBHOOK_RETRY_HOURS = env_float("WEBHOOK_RETRY_HOURS", 24.0)
# Admin CSV imports of more lines than this are previewed and applied by the worker, not in the
# web request (jurisdictions/services/imports.py); smaller ones run at once, through the same code.
ADMIN_IMPORT_INLINE_MAX_ROWS = env_int("ADMIN_IMPORT_INLINE_MAX_ROWS", 300, minimum=0)
# Delivered or given-up webhook events, their deliveries, e-mail bookkeeping and finished import
# jobs older than this are deleted by the worker's sweep and `manage.py prune_alerts`.
ALERTS_RETENTION_DAYS = env_int("ALERTS_RETENTION_DAYS", 90, minimum=1)
# E-mail: SMTP in production (EMAIL_HOST...), the console under `make run` (DJANGO_DEBUG=1).
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "PSP Tracker <alerts@localhost>")
# New e-mail subscriptions per client address (the subscribe form's POST).
ALERT_SUBSCRIBE_RATE = env_rate("ALERT_SUBSCRIBE_RATE", "5/hour")
