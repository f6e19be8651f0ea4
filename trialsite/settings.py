"""Settings, all from environment variables.

With nothing set the site runs embedded: SQLite, Celery on a filesystem broker, email and
SMS written to the outbox table. DATABASE_URL and CELERY_BROKER_URL switch to PostgreSQL
and Redis; with DEBUG off a SECRET_KEY is required and cookies and HSTS are secure.

Left whole although it is over 400 lines: Django reads its settings as one module
(``DJANGO_SETTINGS_MODULE``), and one file read top to bottom shows every setting, the
environment variable behind it and its default in one place; split into pieces, a later
piece could silently override an earlier one.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
# A .env file is convenient in development; the environment always wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def env_secret(name: str, default: str | None = None) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE (Docker secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


DEBUG = env.bool("DEBUG", default=True)
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_secret("SECRET_KEY", default=None)
if not SECRET_KEY:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files served from here, no CDN
    "trialsite",
    "enrolment",
    "implementation",
    "questionnaires",
    "followup",
    "analysis",
    "privacy",
    "accounts",
    "datamanagement",
    "paper",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # The second factor before any page; no-store and the download log on staff pages.
    "accounts.middleware.TwoFactorMiddleware",
    "accounts.middleware.StaffPagesMiddleware",
    "accounts.middleware.TrialTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records the user (and a reason, where a form gives one) on every history row.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "trialsite.urls"
WSGI_APPLICATION = "trialsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "enrolment.permissions.context_processor",
                "followup.access.context_processor",
                "accounts.context.nav",
                "datamanagement.queries.context.nav",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'trialsite.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the Celery worker share the file: wait for locks rather than fail.
    # A transaction takes the write lock when it begins: one that had read first and then
    # asked for it while the other process wrote failed at once, without waiting
    # (tests/test_embedded_database.py).
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
else:
    # A connection kept for a minute and checked before reuse: opening one per request
    # (CONN_MAX_AGE 0) cost the survey pages most of their throughput (issue 19).
    # SQLite keeps 0: a file opens in microseconds, and the tests' threads share it.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env.bool(
        "DATABASE_JIT", default=False
    ):
        # PostgreSQL's JIT compiled the monitoring dashboard's aggregates for longer than
        # they ran (1.9 s of 3.3 s at 100,000 participants; issue 19).
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = (options.get("options", "") + " -c jit=off").strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# django-axes refuses a locked-out login before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Staff accounts (accounts/): lockout after LOGIN_FAILURE_LIMIT wrong passwords, counted
# per account and, separately, per client address, on /accounts/login/ and
# /admin/login/ alike; lifted after LOGIN_LOCKOUT_MINUTES (0: only by an administrator,
# in the site or with `manage.py axes_reset`). Attempts are rows in the database
# (AxesDatabaseHandler), so every web process sees them, on SQLite and PostgreSQL.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
_lockout_minutes = env.int("LOGIN_LOCKOUT_MINUTES", default=60)
AXES_COOLOFF_TIME = timedelta(minutes=_lockout_minutes) if _lockout_minutes else None
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # the site's own access log (accounts.AccessEvent) has them
AXES_CLIENT_IP_CALLABLE = "accounts.middleware.client_ip"
AXES_VERBOSE = False
# Sessions end after SESSION_IDLE_MINUTES without a request, and when the browser closes.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# An invitation's or a password reset's link works once, for this long.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_LINK_HOURS", default=72) * 3600
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Trial site")
# Content-Security-Policy (django-csp): scripts only from this site's own files, never
# inline. Styles may still be inline (style attributes in templates and SVG figures).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("sv", "Svenska"), ("da", "Dansk"), ("nb", "Norsk bokmål")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True  # stored in UTC; schedules are computed in each trial's own time zone

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email: the outbox table by default, so nothing leaves an embedded installation.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="followup.backends.OutboxEmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", default="") or ""
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# Seconds an SMTP call may take; without a limit a hung server holds a dispatcher's
# claim past its lease (followup.dispatch).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="trial-office@localhost")

# Celery: a filesystem broker when no server is configured, so the embedded site still
# runs the real tasks on the real beat schedule.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue = VAR_DIR / "celery-broker"
    for _sub in ("queue", "processed", "control"):
        (_queue / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue / "queue"),
        "data_folder_out": str(_queue / "queue"),
        "processed_folder": str(_queue / "processed"),
        "control_folder": str(_queue / "control"),
        "store_processed": False,
    }
    # Messages written whole before a worker can take them (trialsite.brokerfs).
    CELERY_BROKER_TRANSPORT = "trialsite.brokerfs:Transport"
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "scheduler-heartbeat": {
        "task": "trialsite.tasks.record_heartbeat",
        "schedule": env.float("HEARTBEAT_SECONDS", default=60.0),
    },
    # The database decides what is due; a run that is lost or doubled changes nothing
    # (followup.dispatch). A run still queued after its interval is dropped, not stacked.
    "followup-dispatch": {
        "task": "followup.tasks.dispatch",
        "schedule": env.float("FOLLOWUP_DISPATCH_SECONDS", default=60.0),
        "options": {"expires": env.float("FOLLOWUP_DISPATCH_SECONDS", default=60.0)},
    },
    "followup-sms-dispatch": {
        "task": "followup.sms.tasks.dispatch_sms",
        "schedule": env.float("SMS_DISPATCH_SECONDS", default=60.0),
        "options": {"expires": env.float("SMS_DISPATCH_SECONDS", default=60.0)},
    },
    # Data management: the protocols' edit checks over every participant at night (the
    # same checks also run on every save), and Monday's digest of queries for clinic staff
    # (only trials whose protocol file sets query_digest = true). Both are idempotent.
    "datamanagement-edit-checks": {
        "task": "datamanagement.queries.tasks.run_edit_checks",
        "schedule": crontab(hour=2, minute=30),
    },
    "datamanagement-query-digest": {
        "task": "datamanagement.queries.tasks.send_query_digests",
        "schedule": crontab(hour=6, minute=0, day_of_week="monday"),
    },
    # Monday's recruitment email to coordinators and clinic managers (analysis.monitoring
    # .weekly), about the week that ended.
    "monitoring-weekly-summary": {
        "task": "analysis.tasks.send_weekly_summaries",
        "schedule": crontab(hour=6, minute=30, day_of_week="monday"),
    },
}

# The weekly recruitment email: on unless MONITORING_WEEKLY_EMAIL is false. Recipients
# are the trial's coordinators and clinic managers; MONITORING_CLUSTER_EMAILS adds
# addresses per cluster for people without an account, as JSON
# {"<trial>:<cluster>": ["manager@clinic", ...]}.
MONITORING_WEEKLY_EMAIL = env.bool("MONITORING_WEEKLY_EMAIL", default=True)
MONITORING_CLUSTER_EMAILS = env.json("MONITORING_CLUSTER_EMAILS", default={})

# Follow-up: invitations, reminders and retries (followup.dispatch).
FOLLOWUP_BASE_URL = env.str("FOLLOWUP_BASE_URL", default="http://localhost:8000")
FOLLOWUP_SEND_TIME = env.str("FOLLOWUP_SEND_TIME", default="09:00")  # local time of the trial
FOLLOWUP_BATCH_SIZE = env.int("FOLLOWUP_BATCH_SIZE", default=200)
FOLLOWUP_MAX_BATCHES_PER_RUN = env.int("FOLLOWUP_MAX_BATCHES_PER_RUN", default=50)
# Days between reminders; as many reminders as values (default 3, a week apart).
# Fractions are allowed (0.5 is twelve hours).
FOLLOWUP_REMINDER_DAYS = [
    float(d) for d in env.list("FOLLOWUP_REMINDER_DAYS", default=["7", "7", "7"])
]
FOLLOWUP_MAX_ATTEMPTS = env.int("FOLLOWUP_MAX_ATTEMPTS", default=5)
FOLLOWUP_RETRY_SECONDS = env.int("FOLLOWUP_RETRY_SECONDS", default=300)  # doubles each attempt
# A claim older than this belongs to a dispatcher that died while sending: taken over.
FOLLOWUP_SENDING_LEASE_SECONDS = env.int("FOLLOWUP_SENDING_LEASE_SECONDS", default=900)
FOLLOWUP_TRIAL_OFFICE_EMAIL = env.str("FOLLOWUP_TRIAL_OFFICE_EMAIL", default=DEFAULT_FROM_EMAIL)
FOLLOWUP_TRIAL_OFFICE_PHONE = env.str("FOLLOWUP_TRIAL_OFFICE_PHONE", default="")
# Where a dispatcher notes that the provider accepted a message, the moment it does
# (followup.dispatch): every worker must see it, so a worker killed mid-batch is not
# doubled by the one that takes its claims over. Redis (the broker's, unless
# FOLLOWUP_CACHE_URL names another) in production; files under VAR_DIR when embedded.
FOLLOWUP_CACHE_URL = env.str("FOLLOWUP_CACHE_URL", default="")
if not FOLLOWUP_CACHE_URL and CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    FOLLOWUP_CACHE_URL = CELERY_BROKER_URL
if FOLLOWUP_CACHE_URL:
    _followup_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": FOLLOWUP_CACHE_URL,
        "KEY_PREFIX": "trialsite",
        # A hung Redis must not hold a batch's claims past the lease.
        "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
    }
else:
    _followup_cache = {
        # Culling would drop marks at random; they are deleted once recorded instead.
        "BACKEND": "trialsite.filecache.UnculledFileCache",
        "LOCATION": str(VAR_DIR / "cache" / "followup"),
    }
# How long a mark outlives a dispatcher that died before recording it in the database.
FOLLOWUP_SENT_MARK_SECONDS = env.int("FOLLOWUP_SENT_MARK_SECONDS", default=14 * 24 * 3600)
# "default": per-process memory (the dashboard's figures, the webhook's rate limit).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "followup": _followup_cache,
}

# SMS: the outbox by default; Twilio's REST API in production (followup.sms).
SMS_BACKEND = env.str("SMS_BACKEND", default="followup.sms.backends.OutboxBackend")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env_secret("TWILIO_AUTH_TOKEN", default="") or ""
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_BASE_URL = env.str("TWILIO_BASE_URL", default="https://api.twilio.com")
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)
# The public address Twilio calls (behind a proxy the Host header is not it): the
# webhook's signature is checked against this URL, and delivery callbacks go to it.
SMS_CALLBACK_BASE_URL = env.str("SMS_CALLBACK_BASE_URL", default="")
# Webhooks: unsigned requests per minute per client address before 429 (signed ones
# are never limited). Counted in the shared "followup" cache (Redis in production);
# behind a proxy name the header with the client's address, e.g. HTTP_X_REAL_IP.
SMS_WEBHOOK_RATE = env.str("SMS_WEBHOOK_RATE", default="60/m")
RATELIMIT_USE_CACHE = "followup"
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="") or None

# A declared import ([[imports]]) is checked in the request: its file size is limited.
IMPORT_MAX_MB = env.int("IMPORT_MAX_MB", default=20)

# The REST API (api/): personal tokens only (no session, so no CSRF to forget), JSON only,
# every refusal as {"code", "detail"}; calls per token counted in the shared cache.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=365)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.TokenTrial"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Trial site API",
    "DESCRIPTION": "Pseudonymised trial data for scripts: metadata, participants, responses, "
    "scores, contacts, audit trails, data-management queries, the streamed dataset (CSV, JSON "
    "lines) and CDISC ODM 1.3.2; responses entered and queries raised or answered with "
    "read-write tokens. Authenticate with `Authorization: Bearer <token>`. Every refusal is "
    'JSON: `{"code": "...", "detail": "..."}`.',
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# A web process loads fonts, instruments and templates at start (trialsite.warmup), so the
# first page is not the slow one; off in tests that start many short-lived servers.
WARM_UP = env.bool("WARM_UP", default=True)

# Every handler filters survey tokens out of its lines (trialsite.redaction): a link
# not yet answered would let whoever reads the log answer as the patient. Django's own
# "django.server" request lines (runserver) are routed here too, through the filter.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_tokens": {"()": "trialsite.redaction.RedactTokens"},
        "short_request_errors": {"()": "trialsite.logfilters.ShortRequestErrors"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "server",
            "filters": ["redact_tokens"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's defaults give these loggers handlers of their own, outside the filter
        # (and "django" would print each error twice: its handler, then the root's).
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # A refused request (403, 404) is one line, not two tracebacks.
        "django.request": {"filters": ["short_request_errors"]},
    },
}

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"
