"""Pactboard settings: one module, environments differ only by environment variables.

Every variable is documented in README's configuration table. A bad value stops start-up
with a message that names the variable.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

from config.local_key import local_key_allowed

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    """Read NAME, or the contents of the file named by NAME_FILE (for secrets)."""
    file_var = os.environ.get(f"{name}_FILE")
    if file_var:
        try:
            return Path(file_var).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_var!r} ({exc.strerror}).") from exc
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    raw = env(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}: expected true or false, got {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected a whole number, got {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("PACTBOARD_DEBUG", False)

DATA_DIR = Path(env("PACTBOARD_DATA_DIR", str(BASE_DIR / "var")) or "var").resolve()
try:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise ImproperlyConfigured(f"PACTBOARD_DATA_DIR: cannot create {str(DATA_DIR)!r} ({exc.strerror}).") from exc

MEDIA_ROOT = DATA_DIR / "uploads"
DATASETS_DIR = DATA_DIR / "datasets"

# Where uploads and dataset files are stored (docs/deployment.md, "Past one machine"): empty, the
# data dir above; s3://bucket/prefix, an S3-compatible object store that several hosts share.
STORAGE_URL = env("PACTBOARD_STORAGE_URL", "") or ""
if STORAGE_URL:
    _storage = urlparse(STORAGE_URL)
    if _storage.scheme != "s3" or not _storage.netloc or _storage.query or _storage.fragment:
        raise ImproperlyConfigured(
            f"PACTBOARD_STORAGE_URL: expected s3://bucket/prefix (or nothing for the data dir), got {STORAGE_URL!r}."
        )
    if any(part in (".", "..") for part in _storage.path.strip("/").split("/")):
        raise ImproperlyConfigured(f"PACTBOARD_STORAGE_URL: the prefix may not contain '.' or '..': {STORAGE_URL!r}.")
S3_ENDPOINT_URL = env("PACTBOARD_S3_ENDPOINT_URL")  # e.g. https://minio.internal:9000; AWS when unset
if S3_ENDPOINT_URL and urlparse(S3_ENDPOINT_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured(f"PACTBOARD_S3_ENDPOINT_URL: expected an http(s):// URL, got {S3_ENDPOINT_URL!r}.")
S3_REGION = env("PACTBOARD_S3_REGION", "us-east-1") or "us-east-1"
# Unset: boto3's and pyarrow's usual AWS chain (AWS_* variables, instance roles). *_FILE works as elsewhere.
S3_ACCESS_KEY_ID = env("PACTBOARD_S3_ACCESS_KEY_ID")
S3_SECRET_ACCESS_KEY = env("PACTBOARD_S3_SECRET_ACCESS_KEY")
if bool(S3_ACCESS_KEY_ID) != bool(S3_SECRET_ACCESS_KEY):
    raise ImproperlyConfigured("PACTBOARD_S3_ACCESS_KEY_ID and PACTBOARD_S3_SECRET_ACCESS_KEY go together: set both.")


def _secret_key() -> str:
    key = env("PACTBOARD_SECRET_KEY")
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured("PACTBOARD_SECRET_KEY: use at least 32 characters.")
        return key
    # Local use only: a key generated once (with debug on) and kept in the data dir, so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    if not DEBUG:
        # After `pactboard demo`, commands that serve nothing (and mypy) may use the demo's key; a server may not,
        # and nothing is generated with debug off (config/local_key.py says why).
        if local_key_allowed() and key_file.exists():
            return key_file.read_text(encoding="utf-8").strip()
        raise ImproperlyConfigured(
            "PACTBOARD_SECRET_KEY: required when PACTBOARD_DEBUG is off. Set it (or PACTBOARD_SECRET_KEY_FILE), "
            "or set PACTBOARD_DEBUG=true for local use."
        )
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("PACTBOARD_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("PACTBOARD_CSRF_TRUSTED_ORIGINS", [])
SITE_URL = (env("PACTBOARD_SITE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"PACTBOARD_SITE_URL: expected an http(s) URL, got {SITE_URL!r}.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    # Before django_tasks_db: its `db_worker` command is wrapped by pactboard.core's (worker priority).
    "pactboard.core",
    # Only for its templates and static files: /api/docs serves Swagger UI from the app, not from a CDN.
    "ninja",
    "django_tasks_db",
    # The scheduler (`pactboard scheduler`, on django-crontask) enqueues each `@cron` task of the tasks modules.
    "crontask",
    "axes",
    "csp",
    "pactboard.accounts",
    "pactboard.audit",
    "pactboard.engagements",
    "pactboard.kpis",
    "pactboard.measurements",
    "pactboard.governance",
    "pactboard.incentives",
    "pactboard.documents",
    "pactboard.reports",
    "pactboard.dashboards",
    "pactboard.api",
    "pactboard.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pactboard.accounts.middleware.ActiveMembershipMiddleware",
    "pactboard.api.middleware.ApiErrorBodyMiddleware",
    # Last, as django-axes asks: it turns a locked-out log-in into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "pactboard.accounts.context_processors.memberships",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    url = env("DATABASE_URL")
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in {"postgres", "postgresql", "sqlite"}:
            raise ImproperlyConfigured(
                f"DATABASE_URL: unsupported scheme {parsed.scheme!r}; use postgresql://user:pass@host:5432/name or sqlite:///path."
            )
        import dj_database_url  # settings-only dependency

        try:
            config = dict(dj_database_url.parse(url, conn_max_age=60))
        except ValueError as exc:
            raise ImproperlyConfigured(f"DATABASE_URL: {exc}") from exc
        return config
    if env("PGDATABASE") or env("PGHOST"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": env("PGDATABASE", "pactboard"),
            "USER": env("PGUSER", ""),
            "PASSWORD": env("PGPASSWORD", ""),
            "HOST": env("PGHOST", ""),
            "PORT": env("PGPORT", ""),
            "CONN_MAX_AGE": 60,
        }
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "pactboard.sqlite3",
        "OPTIONS": {
            # WAL + a busy timeout let the web process and the task worker share the file.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        # A file, not the shared in-memory database, so that tests see real locking between connections;
        # one per test process, so that parallel runs never share it.
        "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"pactboard-test-{os.getpid()}.sqlite3")},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# AxesStandaloneBackend first (django-axes): it refuses a locked-out account or address before any hash runs.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "engagements:list"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    # Argon2 at a documented cost, with a bound on concurrent hashes (pactboard/accounts/hashers.py).
    "pactboard.accounts.hashers.PactboardArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3
INVITATION_TTL_DAYS = env_int("PACTBOARD_INVITATION_TTL_DAYS", 7)
# How many password hashes one process computes at once (each takes about 19 MiB); the rest wait.
PACTBOARD_HASH_CONCURRENCY = env_int("PACTBOARD_HASH_CONCURRENCY", 2)
if PACTBOARD_HASH_CONCURRENCY < 1:
    raise ImproperlyConfigured(f"PACTBOARD_HASH_CONCURRENCY: at least 1, got {PACTBOARD_HASH_CONCURRENCY}.")

# Throttling (pactboard/accounts/throttle.py). Log-in: django-axes locks an account, and separately a
# client address, after PACTBOARD_LOGIN_FAILURES failures, for PACTBOARD_LOGIN_COOLOFF_MINUTES.
PACTBOARD_TRUSTED_PROXIES = env_int("PACTBOARD_TRUSTED_PROXIES", 0)
if PACTBOARD_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured(f"PACTBOARD_TRUSTED_PROXIES: 0 or more, got {PACTBOARD_TRUSTED_PROXIES}.")
AXES_FAILURE_LIMIT = env_int("PACTBOARD_LOGIN_FAILURES", 10)
if AXES_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured(f"PACTBOARD_LOGIN_FAILURES: at least 1, got {AXES_FAILURE_LIMIT}.")
AXES_COOLOFF_TIME = timedelta(minutes=env_int("PACTBOARD_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks: per account, and per address
AXES_USERNAME_CALLABLE = "pactboard.accounts.throttle.login_username"
AXES_CLIENT_IP_CALLABLE = "pactboard.accounts.throttle.client_ip"
AXES_RESET_ON_SUCCESS = True
# A guess during the lock-out does not start the cool-off again: the owner can log in once it is over.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "pactboard.accounts.throttle.axes_lockout"
AXES_VERBOSE = False
# Password reset and invitation acceptance: attempts per address and per account in each window.
PACTBOARD_THROTTLE_WINDOW_SECONDS = env_int("PACTBOARD_THROTTLE_WINDOW_SECONDS", 15 * 60)
PACTBOARD_RESET_ATTEMPTS = env_int("PACTBOARD_RESET_ATTEMPTS", 5)
PACTBOARD_INVITATION_ATTEMPTS = env_int("PACTBOARD_INVITATION_ATTEMPTS", 10)
# What one KPI computation may take from the machine (pactboard/measurements/recompute.py): one
# thread by default leaves the other cores to the web pages while the worker computes.
DUCKDB_THREADS = env_int("PACTBOARD_DUCKDB_THREADS", 1)
if DUCKDB_THREADS < 1:
    raise ImproperlyConfigured(f"PACTBOARD_DUCKDB_THREADS: at least 1, got {DUCKDB_THREADS}.")
DUCKDB_MEMORY_LIMIT = env("PACTBOARD_DUCKDB_MEMORY_LIMIT", "1GB") or "1GB"
# The task worker lowers its own CPU priority to this niceness when it starts (`pactboard db_worker`,
# pactboard/core/management/commands/db_worker.py): on cores shared with the web processes, a long
# computation then waits for the pages rather than the pages for it (README, "Performance"). 0 keeps it.
WORKER_NICE = env_int("PACTBOARD_WORKER_NICE", 10)
if not 0 <= WORKER_NICE <= 19:
    raise ImproperlyConfigured(f"PACTBOARD_WORKER_NICE: a niceness from 0 to 19, got {WORKER_NICE}.")
# A computation that runs longer is interrupted and refused (docs/formulas.md, "The engine's DuckDB
# connection"): a hostile formula or dataset cannot keep a worker busy for good.
FORMULA_TIMEOUT_SECONDS = env_int("PACTBOARD_FORMULA_TIMEOUT_SECONDS", 120)
if FORMULA_TIMEOUT_SECONDS < 1:
    raise ImproperlyConfigured(f"PACTBOARD_FORMULA_TIMEOUT_SECONDS: at least 1, got {FORMULA_TIMEOUT_SECONDS}.")

# Checking one uploaded file of records (docs/data-in.md) is interrupted and refused after this long.
INGEST_TIMEOUT_SECONDS = env_int("PACTBOARD_INGEST_TIMEOUT_SECONDS", 3600)
if INGEST_TIMEOUT_SECONDS < 1:
    raise ImproperlyConfigured(f"PACTBOARD_INGEST_TIMEOUT_SECONDS: at least 1, got {INGEST_TIMEOUT_SECONDS}.")

# "default": throttle counters and sessions' helpers (Django's per-process memory cache).
# "pages": dashboard fragments and portfolio rows, keyed on exactly what they show
# (pactboard/dashboards/pagecache.py), so a per-process cache is never stale, only cold once per
# process after a write. Production with several processes: a shared cache (Redis, Memcached)
# under the same alias saves each process its own cold request (docs/dashboards.md, "Performance").
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pactboard-default"},
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pactboard-pages",
        # A 20-tile dashboard is some tens of kB, a portfolio row about 2 kB.
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
}

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG


# E-mail over SMTP (Django 6.1 MAILERS). Without PACTBOARD_EMAIL_URL, mail is printed to the console.
def _mailer() -> dict[str, object]:
    url = env("PACTBOARD_EMAIL_URL")
    if not url:
        return {"BACKEND": env("PACTBOARD_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")}
    parsed = urlparse(url)
    if parsed.scheme not in {"smtp", "smtps", "smtp+tls"} or not parsed.hostname:
        raise ImproperlyConfigured(
            f"PACTBOARD_EMAIL_URL: expected smtp://user:pass@host:port (or smtps://, smtp+tls://), got {url!r}."
        )
    try:
        port = parsed.port or (465 if parsed.scheme == "smtps" else 587 if parsed.scheme == "smtp+tls" else 25)
    except ValueError:
        raise ImproperlyConfigured(f"PACTBOARD_EMAIL_URL: the port in {url!r} is not a number.") from None
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parsed.hostname,
            "port": port,
            "username": parsed.username or "",
            "password": env("PACTBOARD_EMAIL_PASSWORD", parsed.password or "") or "",
            "use_ssl": parsed.scheme == "smtps",
            "use_tls": parsed.scheme == "smtp+tls",
            "timeout": 20,
        },
    }


MAILERS = {"default": _mailer()}
DEFAULT_FROM_EMAIL = env("PACTBOARD_FROM_EMAIL", "Pactboard <pactboard@localhost>")

TASKS = {
    "default": {
        "BACKEND": env("PACTBOARD_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Uploads past the limit are cut off while they stream in (pactboard/core/uploads.py), never stored.
PACTBOARD_UPLOAD_MAX_BYTES = env_int("PACTBOARD_UPLOAD_MAX_MB", 1024) * 1024 * 1024
if PACTBOARD_UPLOAD_MAX_BYTES <= 0:
    raise ImproperlyConfigured("PACTBOARD_UPLOAD_MAX_MB: expected a positive whole number of MiB.")
FILE_UPLOAD_HANDLERS = [
    "pactboard.core.uploads.UploadSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Webhooks (docs/governance.md): HTTPS to public addresses only. ALLOW_LOCAL (tests, local use) also
# accepts http:// to 127.0.0.1/localhost/::1 and https:// to private, loopback and link-local addresses.
PACTBOARD_WEBHOOKS_ALLOW_LOCAL = env_bool("PACTBOARD_WEBHOOKS_ALLOW_LOCAL", False)
PACTBOARD_WEBHOOK_TIMEOUT_SECONDS = env_int("PACTBOARD_WEBHOOK_TIMEOUT_SECONDS", 5)
if not 1 <= PACTBOARD_WEBHOOK_TIMEOUT_SECONDS <= 60:
    raise ImproperlyConfigured("PACTBOARD_WEBHOOK_TIMEOUT_SECONDS: expected 1 to 60 (seconds).")
# An import still "running" without a heartbeat for this long belongs to a dead worker and is failed.
PACTBOARD_IMPORT_STALE_SECONDS = env_int("PACTBOARD_IMPORT_STALE_SECONDS", 120)
if PACTBOARD_IMPORT_STALE_SECONDS < 10:
    raise ImproperlyConfigured("PACTBOARD_IMPORT_STALE_SECONDS: expected at least 10 (seconds).")
# A task result still RUNNING this long after it started belongs to a worker that died: it is failed
# (pactboard/core/task_results.py, swept every 10 minutes by the scheduler).
PACTBOARD_TASK_STALE_MINUTES = env_int("PACTBOARD_TASK_STALE_MINUTES", 60)
if PACTBOARD_TASK_STALE_MINUTES < 1:
    raise ImproperlyConfigured("PACTBOARD_TASK_STALE_MINUTES: expected at least 1 (minute).")

# HTTPS (docs/deployment.md, "Production environment"). Served over https (PACTBOARD_SITE_URL) with debug
# off, cookies are secure and plain HTTP is redirected; HSTS is opt-in, as browsers remember it.
_HTTPS = SITE_URL.startswith("https://") and not DEBUG
SESSION_COOKIE_SECURE = env_bool("PACTBOARD_SECURE_COOKIES", _HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("PACTBOARD_SSL_REDIRECT", _HTTPS)
SECURE_HSTS_SECONDS = env_int("PACTBOARD_HSTS_SECONDS", 0)
if SECURE_HSTS_SECONDS < 0:
    raise ImproperlyConfigured(f"PACTBOARD_HSTS_SECONDS: 0 (off) or more, got {SECURE_HSTS_SECONDS}.")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("PACTBOARD_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("PACTBOARD_HSTS_PRELOAD", False)
# Behind PACTBOARD_TRUSTED_PROXIES proxies (above), the nearest one says whether the client used HTTPS.
# The proxy must set X-Forwarded-Proto itself, overwriting whatever the client sent.
if PACTBOARD_TRUSTED_PROXIES > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy (django-csp 4): scripts, styles and everything else from this site only. No inline
# <script>, no inline event handler, no eval, no style attribute or injected <style>: the page behaviour is in
# static/js (tests/test_csp.py scans templates/ for inline code). JSON in <script type="application/json">
# is data, which the browser does not run. Images may be data: URLs (charts saved as PNG).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("PACTBOARD_LOG_LEVEL", "INFO")},
    # APScheduler logs each run of each job (the scheduler's lock refresh every 5 s): only problems.
    "loggers": {
        # Django's default config gives ``django`` a console handler of its own (DEBUG only): with the root's,
        # every worker line ("Task id=... state=RUNNING") printed twice. One handler, the root's.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"level": "WARNING"},
        "apscheduler.executors": {"level": "WARNING"},
    },
}
