"""LTC CRM settings, driven by environment variables.

Embedded default (nothing set): SQLite under var/, Celery on kombu's filesystem transport under var/.
Production: DATABASE_URL (PostgreSQL) and REDIS_URL.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LTC_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)
_DEV_SECRET = "django-insecure-ltc-embedded-default-key-change-me-in-production-0123456789"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

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
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "ltc",
    "accounts",
    "relationships",
    "pipeline",
    "contracts",
]

MIDDLEWARE = [
    "ltc.middleware.ServerTimingMiddleware",  # first: its figure covers everything below
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "ltc.urls"
WSGI_APPLICATION = "ltc.wsgi.application"
ASGI_APPLICATION = "ltc.asgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "ltc.sqlite3",
            "OPTIONS": {
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # List pages are index walks of a few hundred rows, but PostgreSQL's estimate of the visibility filter is
    # pessimistic (millions of rows), so it picks parallel plans and JIT-compiles them: starting the workers
    # and compiling cost 30-160 ms against 10-25 ms for the query itself at 1M opportunities
    # (docs/BENCHMARKS.md). LTC_PG_OPTIONS="" leaves the server's settings alone (e.g. behind a
    # transaction-pooling PgBouncer, which refuses start-up options).
    _pg_options = os.environ.get("LTC_PG_OPTIONS", "-c jit=off -c max_parallel_workers_per_gather=0").strip()
    if _pg_options:
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = _pg_options
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# A bulk upsert may carry 10,000 rows (ltc.api.bulk.MAX_ROWS): about 3-5 MB of JSON, above Django's 2.5 MB default.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("LTC_MAX_REQUEST_BYTES", 16 * 1024 * 1024))
AUTH_USER_MODEL = "accounts.User"

# --- Auth -----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["accounts.auth.LockoutModelBackend"]  # ModelBackend + log-in lock-out
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = int(os.environ.get("DJANGO_SESSION_AGE", 60 * 60 * 12))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True

# --- I18N -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # else WhiteNoise warns at every start until collectstatic runs
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security (production when DJANGO_DEBUG is off) -----------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load-balancer and container probes speak plain HTTP
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Celery ---------------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_QUEUE_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    for sub in ("queue", "processed", "control", "results"):
        (CELERY_QUEUE_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_QUEUE_DIR / 'results'}"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}  # filled by ltc/celery.py from LTC_SCHEDULE

# --- REST framework -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an anonymous API request a 401 (not a 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ltc.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["ltc.api.filters.ApiFilterBackend"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "ltc.api.schema.LtcAutoSchema",
    "EXCEPTION_HANDLER": "ltc.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["ltc.api.permissions.ApiClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_client": os.environ.get("LTC_API_THROTTLE", "6000/min")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Stored Idempotency-Key responses are kept this long (ltc.api.idempotency.idempotency_records_purge).
LTC_API_IDEMPOTENCY_TTL_HOURS = int(os.environ.get("LTC_API_IDEMPOTENCY_TTL_HOURS", 24))
SPECTACULAR_SETTINGS = {
    "TITLE": "LTC CRM API",
    "DESCRIPTION": "Lead-to-cash CRM: customers, leads, opportunities, contracts, invoices and receipts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None, "persistAuthorization": True},
    "REDOC_UI_SETTINGS": {"hideDownloadButton": False},
    # One name per choice set where several models share a field name (status, level, …).
    "ENUM_NAME_OVERRIDES": {
        "CustomerStatusEnum": "relationships.models.CustomerStatus",
        "CustomerTierEnum": "relationships.models.CustomerTier",
        "IndustryEnum": "relationships.models.Industry",
        "MarketTypeEnum": "accounts.models.MarketType",
        "ContactLevelEnum": "relationships.models.ContactLevel",
        "ContactDecisionRoleEnum": "relationships.models.ContactDecisionRole",
        "ContactStanceEnum": "relationships.models.ContactStance",
        "LeadStatusEnum": "pipeline.models.LeadStatus",
        "ContractStatusEnum": "contracts.models.ContractStatus",
        "InvoiceStatusEnum": "contracts.models.InvoiceStatus",
        "WebhookDeliveryStatusEnum": "ltc.models.WebhookDeliveryStatus",
        "OrgUnitKindEnum": "accounts.models.OrgUnitKind",
        "JobRoleEnum": "accounts.models.UserJobRole",
        "PreferredLanguageEnum": "accounts.models.UserLanguage",
        "StageEnum": "pipeline.models.Stage",
        "PaymentMilestoneKindEnum": "contracts.models.PaymentMilestoneKind",
        "PaymentTermsEnum": "contracts.models.ContractPaymentTerms",
        # The subsets a contracts bulk upsert accepts (no CUSTOM terms, no CLOSED status).
        "ContractBulkPaymentTermsEnum": ["STANDARD", "DELIVERY", "ADVANCE_FAC"],
        "ContractBulkStatusEnum": ["RECEIVED", "EXECUTING"],
        "MarketTypeBulkEnum": ["BREAKTHROUGH", "NEW", "MATURE"],
        "SupportRequestStatusEnum": "pipeline.models.SupportRequestStatus",
        "ContractChangeStatusEnum": "contracts.models.ContractChangeStatus",
    },
}

# --- Logging --------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LTC_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "ltc.security": {"level": "INFO"},
    },
}

# --- Domain settings (configurable defaults; see DOMAIN.md) ----------------------------------------
LTC = {
    # Weekly visit quota per sales rep.
    "VISIT_QUOTA_PER_WEEK": int(os.environ.get("LTC_VISIT_QUOTA_PER_WEEK", 6)),
    # Default win probability (percent) per opportunity stage.
    "STAGE_PROBABILITY": {
        "VALIDATE": 10,
        "GUIDE": 30,
        "BID": 50,
        "NEGOTIATE": 75,
        "WON": 100,
        "LOST": 0,
        "ABANDONED": 0,
    },
    # Gate decision authority: the largest amount (in CNY) a decider at each org level may decide.
    # None means no limit.
    "GATE_AUTHORITY": {"ACCOUNT_DEPT": 1_000_000, "REP_OFFICE": 10_000_000, "REGION": None, "HQ": None},
    # Customer tier thresholds on annual purchase amount (CNY).
    "TIER_THRESHOLDS": {"S": 10_000_000, "A": 5_000_000, "B": 1_000_000},
    # Lead grade from the qualification total (three questions scored 0–10): the least total for each grade.
    "LEAD_GRADE_THRESHOLDS": {"A": 24, "B": 18, "C": 12},
    # Duplicate warnings: the least difflib ratio between normalised names (customers) or titles (leads).
    "DUPLICATE_SIMILARITY": {"CUSTOMER_NAME": 0.85, "LEAD_TITLE": 0.8},
    # Receivables aging buckets, in days overdue (upper bounds; the last bucket is open-ended).
    "AGING_BUCKETS": [30, 90, 180],
    # Default payment terms: (milestone kind, percent of the amount, days after signing).
    "PAYMENT_TERMS": {
        "STANDARD": [("ADVANCE", 30, 30), ("PAC", 60, 180), ("FAC", 10, 365)],
        "DELIVERY": [("DELIVERY", 100, 90)],
        "ADVANCE_FAC": [("ADVANCE", 50, 30), ("FAC", 50, 365)],
    },
    # Log-in lock-out: failures per user and address before a lock-out, and its length in minutes.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCKOUT_MINUTES": 15,
    # Days from issuing an invoice to its due date, when the caller gives none.
    "INVOICE_DUE_DAYS": int(os.environ.get("LTC_INVOICE_DUE_DAYS", 30)),
    # Take the client address for the lock-out from the last X-Forwarded-For hop (behind a proxy only).
    "TRUST_X_FORWARDED_FOR": env_bool("LTC_TRUST_X_FORWARDED_FOR", False),
}
