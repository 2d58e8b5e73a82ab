"""Settings for gonghui, driven by the environment.

Every value that differs between a laptop demo and a provincial deployment comes from an
environment variable; the defaults are the zero-setup demo (SQLite, console SMS, file cache).
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("GONGHUI_VAR_DIR", str(BASE_DIR / "var")))
(VAR_DIR / "staticfiles").mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
# The zero-setup demo: `make demo` (which sets GONGHUI_DEMO=1), any run on SQLite (the demo's
# database: without DATABASE_URL, the file under var/; production runs on PostgreSQL only) and
# the test suite (config/settings_test.py). Only the demo and DEBUG may run on the shipped demo
# keys; anywhere else start-up refuses them below.
DEMO = env_bool("GONGHUI_DEMO", os.environ.get("DATABASE_URL", "sqlite:").startswith("sqlite:"))
DEMO_KEYS = {
    "SECRET_KEY": "demo-only-secret-key-change-me-in-production-0123456789",
    "PII_KEYS": "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q=",  # the key of the demo's "demo1:…"
    "BLIND_INDEX_KEY": "ZGVtby1vbmx5LWJsaW5kLWluZGV4LWtleS1jaGFuZ2Vt",
    "AUDIT_HMAC_KEY": "demo-only-audit-hmac-key-change-me-in-production",
}
SECRET_KEY = env_str("SECRET_KEY", DEMO_KEYS["SECRET_KEY"])
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks_db",
    "gonghui.core",
    "gonghui.accounts",
    "gonghui.organizations",
    "gonghui.members",
    "gonghui.benefits",
    "gonghui.health",
    "gonghui.funds",
    "gonghui.relief",
    "gonghui.screening",
    "gonghui.mutual_aid",
    "gonghui.suggestions",
    "gonghui.stations",
    "gonghui.activities",
    "gonghui.competitions",
    "gonghui.site",  # the composition app: last, it knows every module
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "gonghui.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gonghui.accounts.middleware.IdleTimeoutMiddleware",
    "gonghui.core.middleware.AccessPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "gonghui.core.context_processors.console",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'demo.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs a web server and a task worker against one file: wait for locks
    # instead of failing, and use WAL so readers never block the writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters travel apart from the SQL (no quoting in Python), and a statement a
    # connection has run DB_PREPARE_THRESHOLD times is prepared, so PostgreSQL stops parsing
    # and planning it again: 0 turns preparing off, for a pooler that cannot carry prepared
    # statements (PgBouncer before 1.21 in transaction mode).
    DATABASES["default"]["OPTIONS"] = {
        "server_side_binding": True,
        "prepare_threshold": env_int("DB_PREPARE_THRESHOLD", 5) or None,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["gonghui.accounts.backends.StaffPasswordBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:staff_login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

# Sessions and cookies. Secure cookies are on unless the demo runs over plain HTTP on localhost.
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG and env_bool("HTTPS", False))
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_AGE = 8 * 3600
# Parallel audit hash chains: concurrent transactions append to different chains instead of
# queueing on one lock. Raising it later is safe; lowering it leaves the higher chains closed.
AUDIT_CHAINS = env_int("AUDIT_CHAINS", 16)
SESSION_IDLE_TIMEOUT_SECONDS = env_int("SESSION_IDLE_TIMEOUT_SECONDS", 30 * 60)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# HSTS once the site is served over HTTPS: browsers then refuse plain HTTP to it for a year.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if env_bool("HTTPS", False) else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'self'; object-src 'none'"
)

# Staff login policy.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60)
TOTP_ISSUER = env_str("TOTP_ISSUER", "工会数字化服务平台")
# After a wrong TOTP code the next attempt waits TOTP_THROTTLE_FACTOR_SECONDS * 2^(failures-1)
# seconds (django-otp's throttling semantics), up to 2^12 times the factor.
TOTP_THROTTLE_FACTOR_SECONDS = env_int("TOTP_THROTTLE_FACTOR_SECONDS", 1)

# Member SMS login.
SMS_SENDER = env_str("SMS_SENDER", "gonghui.accounts.sms.ConsoleSmsSender")
SMS_CODE_TTL_SECONDS = env_int("SMS_CODE_TTL_SECONDS", 300)
SMS_CODE_MAX_PER_HOUR = env_int("SMS_CODE_MAX_PER_HOUR", 5)
SMS_CODE_MAX_ATTEMPTS = env_int("SMS_CODE_MAX_ATTEMPTS", 5)

# Flooding limits on SMS sign-in: codes sent per client address (a minute, an hour) and by
# the whole site a minute.
SMS_CODE_MAX_PER_IP_PER_MINUTE = env_int("SMS_CODE_MAX_PER_IP_PER_MINUTE", 5)
SMS_CODE_MAX_PER_IP_PER_HOUR = env_int("SMS_CODE_MAX_PER_IP_PER_HOUR", 30)
SMS_CODE_MAX_PER_MINUTE = env_int("SMS_CODE_MAX_PER_MINUTE", 200)

# Personal-data protection. Keys are base64 of 32 random bytes; "kid:key" pairs separated by
# commas, the active key named separately so old ciphertexts stay readable after a rotation.
PII_KEYS = env_str("PII_KEYS", f"demo1:{DEMO_KEYS['PII_KEYS']}")
PII_ACTIVE_KEY_ID = env_str("PII_ACTIVE_KEY_ID", "demo1")
BLIND_INDEX_KEY = env_str("BLIND_INDEX_KEY", DEMO_KEYS["BLIND_INDEX_KEY"])
# Keys the audit hash chains and their signed anchors (at least 32 characters). Kept outside the
# database, so whoever can write the database still cannot recompute a keyed hash.
AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY", DEMO_KEYS["AUDIT_HMAC_KEY"])
MEMBER_CARD_TOKEN_TTL_SECONDS = env_int("MEMBER_CARD_TOKEN_TTL_SECONDS", 60)

# Bulk member import.
MEMBER_IMPORT_WORKERS = env_int("MEMBER_IMPORT_WORKERS", min(2, os.cpu_count() or 1))  # encryption processes
MEMBER_IMPORT_STALE_SECONDS = env_int("MEMBER_IMPORT_STALE_SECONDS", 60)  # no progress: interrupted
MEMBER_IMPORT_UPLOAD_KEEP_HOURS = env_int("MEMBER_IMPORT_UPLOAD_KEEP_HOURS", 72)  # unconfirmed uploads
# A health results file not imported by then (failed, waiting) is deleted and its job expires.
HEALTH_IMPORT_UPLOAD_KEEP_HOURS = env_int("HEALTH_IMPORT_UPLOAD_KEEP_HOURS", 72)
# A background job (health import, 定向发放, member import commit) still running after this long
# without a heartbeat has lost its worker: housekeeping queues it again to resume (core.jobs:
# 定向发放; a member import until its third attempt, then fails it) or fails it (health import).
# A job kind may declare its own stale-after instead.
JOB_STALE_SECONDS = env_int("JOB_STALE_SECONDS", 30 * 60)
# Large exports (core.export_jobs): private files, never served by the web server.
EXPORT_DIR = Path(env_str("GONGHUI_EXPORT_DIR", str(VAR_DIR / "exports")))
EXPORT_TTL_HOURS = env_int("EXPORT_TTL_HOURS", 24)
# A list up to this many rows downloads at once; a longer one is exported by a background job.
EXPORT_SYNC_ROWS = env_int("EXPORT_SYNC_ROWS", 10_000)

# Screening (筛查比对, gonghui.screening): agency files and their normalised Parquet copies (blind
# indexes, never plaintext ID numbers) live here, private storage never served by the web server.
SCREENING_DIR = Path(env_str("GONGHUI_SCREENING_DIR", str(VAR_DIR / "screening")))
# The engine that runs the rules: "duckdb" (in-process, default) or "spark".
SCREENING_ENGINE = env_str("SCREENING_ENGINE", "duckdb")
# Spark: a master URL ("local[2]", "spark://host:7077") or, instead, a Spark Connect URL ("sc://host:15002").
SCREENING_SPARK_MASTER = env_str("SCREENING_SPARK_MASTER", "local[2]")
SCREENING_SPARK_REMOTE = env_str("SCREENING_SPARK_REMOTE", "")
# DuckDB: threads and memory limit of the in-process engine.
SCREENING_DUCKDB_THREADS = env_int("SCREENING_DUCKDB_THREADS", 2)
SCREENING_DUCKDB_MEMORY = env_str("SCREENING_DUCKDB_MEMORY", "2GB")
# An uploaded agency file may hold at most this many data rows (a larger one is split).
SCREENING_MAX_ROWS = env_int("SCREENING_MAX_ROWS", 1_000_000)
# The files of a dataset out of use (停用 or replaced by a newer version) are deleted this many days later.
SCREENING_DATASET_KEEP_DAYS = env_int("SCREENING_DATASET_KEEP_DAYS", 180)

# Every uploaded spreadsheet or CSV (member import, health results, coupon target lists) is held
# to these before and while it is read (gonghui/core/tabular_limits.py): decompression bombs.
TABULAR_MAX_UNCOMPRESSED_MB = env_int("TABULAR_MAX_UNCOMPRESSED_MB", 1024)  # XLSX members, summed
TABULAR_MAX_COMPRESSION_RATIO = env_int("TABULAR_MAX_COMPRESSION_RATIO", 100)  # XLSX expanded / packed
TABULAR_MAX_CSV_MB = env_int("TABULAR_MAX_CSV_MB", 1024)
TABULAR_MAX_ROWS = env_int("TABULAR_MAX_ROWS", 1_100_000)  # data rows; callers may ask for fewer
TABULAR_MAX_CELL_CHARS = env_int("TABULAR_MAX_CELL_CHARS", 32_767)  # Excel's own cell limit
TABULAR_MAX_COLUMNS = env_int("TABULAR_MAX_COLUMNS", 500)

# Coupon redemption: the guessing throttle (per device and per point) and its lock.
BENEFITS_DEVICE_WRONG_CODES_PER_MINUTE = env_int("BENEFITS_DEVICE_WRONG_CODES_PER_MINUTE", 10)
BENEFITS_POINT_WRONG_CODES_PER_MINUTE = env_int("BENEFITS_POINT_WRONG_CODES_PER_MINUTE", 20)
BENEFITS_WRONG_CODE_LOCK_MINUTES = env_int("BENEFITS_WRONG_CODE_LOCK_MINUTES", 15)

# Housekeeping (`python manage.py housekeeping`): how long short-lived records are kept.
IDEMPOTENT_RESPONSE_KEEP_HOURS = env_int("IDEMPOTENT_RESPONSE_KEEP_HOURS", 72)
WRONG_CODE_ATTEMPT_KEEP_DAYS = env_int("WRONG_CODE_ATTEMPT_KEEP_DAYS", 30)
SMS_CODE_KEEP_DAYS = env_int("SMS_CODE_KEEP_DAYS", 7)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Optional large-language-model rephrasing of health reports (off by default). Its output is
# kept only if every number it quotes appears in the rule-based report.
HEALTH_LLM_ENABLED = env_bool("HEALTH_LLM_ENABLED", False)
HEALTH_LLM_BASE_URL = env_str("HEALTH_LLM_BASE_URL", "")  # an OpenAI-compatible .../v1 endpoint
HEALTH_LLM_MODEL = env_str("HEALTH_LLM_MODEL", "default")
HEALTH_LLM_API_KEY = env_str("HEALTH_LLM_API_KEY", "")
HEALTH_LLM_TIMEOUT_SECONDS = env_int("HEALTH_LLM_TIMEOUT_SECONDS", 20)

# Service stations' map tiles: a Leaflet URL template ({z}/{x}/{y}, {s}), e.g. a 高德 tile server,
# and the coordinate system its tiles are drawn in ("gcj02" for 高德/腾讯, "wgs84" otherwise).
# Empty: the station map shows as a list with distances.
GONGHUI_MAP_TILE_URL = env_str("GONGHUI_MAP_TILE_URL", "")
GONGHUI_MAP_TILE_CRS = env_str("GONGHUI_MAP_TILE_CRS", "gcj02")
GONGHUI_MAP_TILE_ATTRIBUTION = env_str("GONGHUI_MAP_TILE_ATTRIBUTION", "")


def _uses_demo_key(name: str, value: str) -> bool:
    if name == "PII_KEYS":  # any entry holding the demo key, whatever its id
        return any(pair.partition(":")[2].strip() == DEMO_KEYS[name] for pair in value.split(","))
    return value == DEMO_KEYS[name]


if not DEBUG and not DEMO:
    for _name, _value in (
        ("SECRET_KEY", SECRET_KEY),
        ("PII_KEYS", PII_KEYS),
        ("BLIND_INDEX_KEY", BLIND_INDEX_KEY),
        ("AUDIT_HMAC_KEY", AUDIT_HMAC_KEY),
    ):
        if _uses_demo_key(_name, _value):
            raise ImproperlyConfigured(
                f"{_name} is the shipped demo value, which is public: set {_name} to a key of your own "
                "(docs/operations.md). Only the demo (GONGHUI_DEMO=1) and DEBUG run on the demo keys."
            )
