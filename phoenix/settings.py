"""Phoenix settings: everything comes from the environment, with safe local defaults."""

import os
import socket
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from phoenix.env import envbool, envfloat, envint, envlist
from phoenix.redis_failover import RetryFor, no_retry

# The generation providers (OpenAI, Runway, remote tasks) and Stripe: settings of their own.
from phoenix.settings_providers import *  # noqa: F403

BASE_DIR = Path(__file__).resolve().parent.parent


DEBUG = envbool("DEBUG", "0")

# Public (it is in the repository): only ever with DEBUG on. No flag lets it through with
# DEBUG off — a forgotten flag would sign every session and token with a known key.
DEVELOPMENT_SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"
SECRET_KEY = os.getenv("SECRET_KEY", "")
# What production cannot run without, gathered here and reported together at the end of
# this module (one error that names every missing setting, not one per start).
MISCONFIGURED: list[str] = []
if not DEBUG and SECRET_KEY.strip() in ("", DEVELOPMENT_SECRET_KEY):
    MISCONFIGURED.append(
        "SECRET_KEY must be set to a secret of your own when DEBUG is off "
        "(the development key is public)."
    )
SECRET_KEY = SECRET_KEY or DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    MISCONFIGURED.append(
        "ALLOWED_HOSTS must name the site's host(s) when DEBUG is off "
        "(e.g. phoenix.example.com); without it every request is refused."
    )
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
# A refused form gets the site's styled 403 page with what to do, not Django's bare one.
CSRF_FAILURE_VIEW = "phoenix.errors.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_rq",
    "tokens",
    "creations",
    "library",
    "profiles",
    "ops",
    "sharing",
    "notifications",
    "community",
    "accounts",
    "webhooks",
    "apikeys",
    "moderation",
]

MIDDLEWARE = [
    "phoenix.request_limits.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "phoenix.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the session's user: a Bearer key on /api/ replaces it (apikeys/middleware.py).
    "apikeys.middleware.ApiKeyMiddleware",
    "profiles.middleware.KnownDeviceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.StaffTwoFactorMiddleware",
    # A suspended account's session opens its decisions and appeal only (moderation.auth).
    "moderation.middleware.SuspendedAccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# Polls answered before Django when they find nothing new (phoenix/fast_polls.py, wrapped
# around the application in phoenix/wsgi.py): each app's list of (path pattern, check).
PHOENIX_FAST_POLLS = ["creations.polling.FAST_POLLS", "notifications.polling.FAST_POLLS"]

# The largest request body taken (phoenix/request_limits.py): a 10 MB image with its form.
PHOENIX_MAX_REQUEST_BYTES = envint("PHOENIX_MAX_REQUEST_BYTES", 11 * 1024 * 1024)

# Django's first: every session it made stays valid. Then moderation's, which lets a
# suspended account (inactive) sign in to read its decision and appeal it.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "moderation.auth.SuspendedAccountBackend",
]

ROOT_URLCONF = "phoenix.urls"
WSGI_APPLICATION = "phoenix.wsgi.application"

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
                "tokens.context_processors.token_balance",
                "notifications.context_processors.unread_notifications",
            ],
            # {% url %} remembering what it reversed (phoenix/template_urls.py), and
            # {% fragment %}: a part of a page kept per process (phoenix/fragments.py).
            "builtins": ["phoenix.template_urls", "phoenix.fragments"],
        },
    },
]

# Behind PgBouncer in transaction mode (DATABASE_PGBOUNCER=1), a session is not one server
# connection: no server-side cursors (they live across transactions) and no startup
# options (PgBouncer refuses them), and no prepared statements (phoenix.db). Reused
# connections are health-checked either way.
DATABASE_PGBOUNCER = envbool("DATABASE_PGBOUNCER", "0")
# gunicorn.conf.py sets PHOENIX_PROCESS=web: web processes get psycopg's pool and a short
# Redis failover wait.
WEB_PROCESS = os.getenv("PHOENIX_PROCESS") == "web"
# psycopg's own pool, for web processes only. A pool must never cross a fork, and RQ forks
# a work horse per job.
DATABASE_POOL_SIZE = envint("DATABASE_POOL_SIZE", 0) if WEB_PROCESS else 0
DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/phoenix"),
        # A pooled connection goes back to the pool after each request instead.
        conn_max_age=0 if DATABASE_POOL_SIZE else envint("CONN_MAX_AGE", 60),
        conn_health_checks=True,
        disable_server_side_cursors=DATABASE_PGBOUNCER,
    )
}
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
# A database that does not answer fails a request (or a /readyz probe) in seconds.
_db_options["connect_timeout"] = envint("DATABASE_CONNECT_TIMEOUT", 5)
if not DATABASE_PGBOUNCER:
    # Sessions start in UTC, so Django needn't send SET TIME ZONE on every new connection
    # (each forked job opens one). Behind PgBouncer the database's own default does this
    # (ALTER DATABASE ... SET timezone TO 'UTC', docs/deploy.md); without it Django sends
    # SET TIME ZONE, which PgBouncer keeps per client.
    _db_options["options"] = "-c timezone=UTC"
    # psycopg prepares only what asks (phoenix.db.prepared_cursor): a threshold no query
    # reaches. Behind PgBouncer, Django's None: nothing is prepared.
    _db_options["prepare_threshold"] = 2**31 - 1
if DATABASE_POOL_SIZE:
    _db_options["pool"] = {"min_size": 1, "max_size": DATABASE_POOL_SIZE, "timeout": 10}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "feed"
LOGOUT_REDIRECT_URL = "feed"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Filled by `collectstatic`, which the Procfile's web line runs before gunicorn starts.
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", str(BASE_DIR / "media")))
# Media is never served straight from MEDIA_ROOT: every file goes through a view that
# checks who may see it (drafts are private).
MEDIA_URL = "/media/"

# Extra origins the Content-Security-Policy lets media come from (comma-separated); by
# default the S3 endpoint's, when S3 is on.
PHOENIX_CSP_MEDIA_ORIGINS = [o for o in os.getenv("PHOENIX_CSP_MEDIA_ORIGINS", "").split(",") if o]
# Storage: local files by default, S3-compatible (Cloudflare R2) when a bucket is set.
PHOENIX_S3_BUCKET = os.getenv("PHOENIX_S3_BUCKET", "")
if PHOENIX_S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": PHOENIX_S3_BUCKET,
            "endpoint_url": os.getenv("PHOENIX_S3_ENDPOINT_URL") or None,
            "access_key": os.getenv("PHOENIX_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.getenv("PHOENIX_S3_SECRET_ACCESS_KEY") or None,
            "region_name": os.getenv("PHOENIX_S3_REGION", "auto"),
            "default_acl": None,
            "file_overwrite": False,
            # Presigned URLs only: a custom_domain would drop the signature.
            "querystring_auth": True,
            "querystring_expire": envint("PHOENIX_S3_URL_EXPIRY", 300),
            "custom_domain": None,
            "signature_version": "s3v4",
            "addressing_style": os.getenv("PHOENIX_S3_ADDRESSING_STYLE", "path"),
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": os.getenv(
            "PHOENIX_STATICFILES_STORAGE",
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# The queue Redis: jobs, schedules, worker registries, throttles. It must not evict
# (maxmemory-policy noeviction; /readyz warns otherwise).
REDIS_URL = os.getenv("REDIS_URL", "redis://127.0.0.1:6379/0")
# With Sentinel (REDIS_SENTINELS=host:port,host:port,...), every Redis user reaches the
# current primary of REDIS_SENTINEL_MASTER through the sentinels; REDIS_URL then gives
# only the database number and the primary's password (its host is not used).
REDIS_SENTINELS = [
    (host, int(port))
    for host, _, port in (item.rpartition(":") for item in envlist("REDIS_SENTINELS", ""))
]
REDIS_SENTINEL_MASTER = os.getenv("REDIS_SENTINEL_MASTER", "phoenix")
REDIS_SENTINEL_PASSWORD = os.getenv("REDIS_SENTINEL_PASSWORD") or None
# Short timeouts, so that a Redis that is down or paused fails a request quickly instead
# of hanging it (workers raise the read timeout for their blocking waits themselves).
REDIS_SOCKET_TIMEOUT = envfloat("REDIS_SOCKET_TIMEOUT", 5)
REDIS_CONNECT_TIMEOUT = envfloat("REDIS_CONNECT_TIMEOUT", 2)
# With Sentinel, a command whose connection fails is sent again to whichever primary the
# sentinels name, for up to this many seconds. Workers, their schedulers and rqcron wait
# long enough to ride through a failover (down-after-milliseconds plus the promotion);
# the web gives up soon (a create is then refused 503 and refunded): a web thread waiting
# on Redis serves nobody else, and a few such threads would starve /healthz.
REDIS_FAILOVER_WAIT = envfloat("REDIS_FAILOVER_WAIT", 2 if WEB_PROCESS else 30)
# An optional second Redis for what may be evicted or lost: the cache and the throttles.
REDIS_CACHE_URL = os.getenv("REDIS_CACHE_URL", "")
# Its clients fail open, so they fail fast: one try, and this connect timeout (a cache
# host that does not answer would otherwise cost every page the full connect timeout).
REDIS_CACHE_CONNECT_TIMEOUT = envfloat("REDIS_CACHE_CONNECT_TIMEOUT", 0.25)


# A primary cut off by the network (not stopped) never closes its connections: without
# keepalive a worker's blocking wait for a job would sit on it for minutes. With these the
# kernel gives up on a silent peer after about 30 s and the failover retry takes over.
REDIS_KEEPALIVE_OPTIONS = {
    getattr(socket, name): value
    for name, value in (("TCP_KEEPIDLE", 15), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3))
    if hasattr(socket, name)
}


def redis_queue_connection() -> dict:
    """django-rq's connection settings for the queue Redis (django-rq builds the workers',
    the scheduler's and rqcron's connections from them, phoenix/redis_clients.py the web's)."""
    if not REDIS_SENTINELS:
        return {"URL": REDIS_URL}
    url = urlsplit(REDIS_URL)
    if url.query or url.scheme not in ("redis", "rediss"):
        # The sentinels' clients are built from keyword arguments, not from the URL:
        # anything else in it would be silently dropped.
        raise ImproperlyConfigured(
            "With REDIS_SENTINELS, REDIS_URL gives only redis:// or rediss://, a password "
            "and a database number (no query parameters)."
        )
    return {
        "SENTINELS": REDIS_SENTINELS,
        "MASTER_NAME": REDIS_SENTINEL_MASTER,
        "DB": int(url.path.strip("/") or 0),
        "USERNAME": unquote(url.username) if url.username else None,
        "PASSWORD": unquote(url.password) if url.password else None,
        "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
        "CONNECTION_KWARGS": {
            "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
            "socket_keepalive": True,
            "socket_keepalive_options": REDIS_KEEPALIVE_OPTIONS,
            "health_check_interval": 30,
            "retry": RetryFor(REDIS_FAILOVER_WAIT),
            # rediss:// to the primary (the sentinels themselves are asked in plain text).
            "ssl": url.scheme == "rediss",
        },
        "SENTINEL_KWARGS": {
            "password": REDIS_SENTINEL_PASSWORD,
            "socket_timeout": REDIS_CONNECT_TIMEOUT,
            "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
            # A dead sentinel is skipped at once for the next one (redis-py would retry
            # it, for every connection the failover retry makes).
            "retry": no_retry(),
        },
    }


_queue_connection = redis_queue_connection()
# images/videos: generation, on the forking worker (a horse per job). default: recovery
# and scheduled posts. light: short jobs (e-mails, alerts, provider checks and fetches) on a
# non-forking worker. housekeeping: the daily expiry and purges, in batches, on a worker of
# their own so that nothing else ever waits behind them. webhooks: deliveries to creators'
# endpoints, on a non-forking worker of their own: a slow receiver holds up nothing else.
RQ_QUEUES = {
    name: {**_queue_connection, "DEFAULT_TIMEOUT": 600}
    for name in ("default", "images", "videos", "light", "housekeeping", "webhooks")
}
# Generation jobs wait in one fair order across creators and types (creations/fair_queue.py).
# Every queue is of that class (django-rq's rqworker, its dashboard and Phoenix's own
# clients build it; one worker may serve a fair queue and a plain one); only the queues
# named here keep the fair order, the others are RQ's plain lists.
PHOENIX_FAIR_QUEUES = ("images", "videos")
# The cache holds only figures that can be recomputed: per process unless REDIS_CACHE_URL
# names a Redis for it, which may evict and may fail (the cache then reads as empty).
if REDIS_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "phoenix.cache.FailOpenRedisCache",
            "LOCATION": REDIS_CACHE_URL,
            "OPTIONS": {
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                "socket_connect_timeout": REDIS_CACHE_CONNECT_TIMEOUT,
                "retry": no_retry(),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions are read from the cache and written through to the database (cached_db): the
# database stays the truth, a cache that evicts or fails only costs a query. The cache must
# be one every process shares: a session deleted at log-out is deleted from it by the one
# process that serves the log-out, and a per-process cache elsewhere would go on serving it.
# So without a cache Redis the sessions' cache is none (cached_db then reads the database,
# as the db engine does). (The cache Redis fails open: a log-out while it cannot be reached
# leaves the copy it holds, if it comes back with its data, until that copy expires.)
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "sessions"
CACHES["sessions"] = (
    {**CACHES["default"], "KEY_PREFIX": "session"}
    if REDIS_CACHE_URL
    else {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
)
# Our services enqueue from transaction.on_commit themselves, so the queue must send at once.
RQ = {"COMMIT_MODE": "auto", "QUEUE_CLASS": "creations.fair_queue.FairQueue"}
RQ_SHOW_ADMIN_LINK = True

# Security (effective when DEBUG is off).
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Load balancers probe the processes over plain HTTP, behind the TLS they terminate.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if not DEBUG:
    SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", "1")
    CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", "1")
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "1")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
}

# Phoenix product settings: prices, limits and throttles, targets (a module of their own).
from phoenix.settings_product import *  # noqa: E402,F403

# Alerts reach someone: the checks run every minute (rqcron, phoenix/cron.py) over this
# window; a firing one opens an incident, told once to these addresses and/or this
# Slack-compatible webhook, and its end once too (either may be unset).
PHOENIX_ALERT_WINDOW = os.getenv("PHOENIX_ALERT_WINDOW", "1h")
if PHOENIX_ALERT_WINDOW not in ("1h", "24h", "7d", "30d"):
    MISCONFIGURED.append("PHOENIX_ALERT_WINDOW must be 1h, 24h, 7d or 30d.")
PHOENIX_ALERT_EMAILS = envlist("PHOENIX_ALERT_EMAILS", "")
PHOENIX_ALERT_WEBHOOK_URL = os.getenv("PHOENIX_ALERT_WEBHOOK_URL", "")
PHOENIX_ALERT_WEBHOOK_TIMEOUT = envfloat("PHOENIX_ALERT_WEBHOOK_TIMEOUT", 5)
# The site's address, for links in what is sent outside a request (e-mails, alerts): an
# e-mail never carries a relative link.
PHOENIX_SITE_URL = os.getenv("PHOENIX_SITE_URL", "http://localhost:8000" if DEBUG else "")
if not urlsplit(PHOENIX_SITE_URL).netloc or not PHOENIX_SITE_URL.startswith(
    ("https://", "http://")
):
    MISCONFIGURED.append(
        "PHOENIX_SITE_URL must be the site's address, e.g. https://phoenix.example.com "
        "(e-mails and alerts link to it)."
    )

# Accounts (accounts/): two-factor sign-in, e-mail change, data export, deletion.
# Staff must have two-factor sign-in, and have passed its code in this session, to open the
# admin and the staff pages (those without it are sent to set it up).
PHOENIX_STAFF_REQUIRE_2FA = envbool("PHOENIX_STAFF_REQUIRE_2FA", "1")
# Wrong codes allowed per account in PHOENIX_LOGIN_FAILURE_WINDOW at the sign-in's code step
# (and where the password and code are asked again: disabling 2FA, deleting the account).
PHOENIX_2FA_FAILURES = envint("PHOENIX_2FA_FAILURES", 10)
# The name an authenticator app shows beside the account.
PHOENIX_2FA_ISSUER = os.getenv("PHOENIX_2FA_ISSUER", "Phoenix")
# A "Download my data" zip can be downloaded this many days, then the daily job removes it.
PHOENIX_EXPORT_DAYS = envint("PHOENIX_EXPORT_DAYS", 7)

# E-mail (alerts, password resets): printed to the console with DEBUG, SMTP otherwise.
EMAIL_BACKEND = os.getenv(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.getenv("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "0")
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", "0")
# An SMTP server that does not answer fails the send (tried again next run), not the job.
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "Phoenix <phoenix@localhost>")
SERVER_EMAIL = os.getenv("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# Where a creator out of tokens is told to write ("ask the Phoenix team"); empty: no link.
PHOENIX_SUPPORT_EMAIL = os.getenv("PHOENIX_SUPPORT_EMAIL", "")
# Comments one person may post per minute (on shared drafts).
PHOENIX_COMMENTS_PER_MINUTE = envint("PHOENIX_COMMENTS_PER_MINUTE", 10)
# Community (likes, follows, comments on posts): writes per account and per network (an IPv4
# address or an IPv6 /64, as the log-in throttles count) per minute; 0 turns one off.
PHOENIX_SOCIAL_WRITES_PER_MINUTE = envint("PHOENIX_SOCIAL_WRITES_PER_MINUTE", 30)
PHOENIX_SOCIAL_WRITES_PER_NETWORK_PER_MINUTE = envint(
    "PHOENIX_SOCIAL_WRITES_PER_NETWORK_PER_MINUTE", 120
)
# Explore: a like (and a publication) counts half as much after this many hours.
PHOENIX_EXPLORE_HALF_LIFE_HOURS = envfloat("PHOENIX_EXPLORE_HALF_LIFE_HOURS", 24)
# Seconds between two recounts of every post's and creator's community figures.
PHOENIX_COMMUNITY_RECOUNT_INTERVAL = envint("PHOENIX_COMMUNITY_RECOUNT_INTERVAL", 3600)
# Reports one person may file per hour (moderation); 0 turns the limit off.
PHOENIX_REPORTS_PER_HOUR = envint("PHOENIX_REPORTS_PER_HOUR", 20)
# How long after a moderation decision its subject may appeal it (about six months).
PHOENIX_APPEAL_DAYS = envint("PHOENIX_APPEAL_DAYS", 183)
# Shares with people and new share links, per owner per hour (0: no limit).
PHOENIX_SHARES_PER_HOUR = envint("PHOENIX_SHARES_PER_HOUR", 30)

# The largest staff balance adjustment, either way, in one step.
PHOENIX_MAX_ADJUSTMENT = envint("PHOENIX_MAX_ADJUSTMENT", 100_000)
# An adjustment of more tokens than this (either way) waits for a second staff member's
# approval (tokens.adjustments); 0: every adjustment is applied at once.
PHOENIX_ADJUSTMENT_APPROVAL_ABOVE = envint("PHOENIX_ADJUSTMENT_APPROVAL_ABOVE", 1000)

# Webhooks (webhooks/): creators' endpoints are told, by signed POSTs from RQ jobs, that a
# creation finished, failed or was published, or that their balance ran low.
# Loopback http endpoints, for local development only: refused with DEBUG off.
PHOENIX_WEBHOOKS_ALLOW_PRIVATE = envbool("PHOENIX_WEBHOOKS_ALLOW_PRIVATE", "0")
if PHOENIX_WEBHOOKS_ALLOW_PRIVATE and not DEBUG:
    MISCONFIGURED.append(
        "PHOENIX_WEBHOOKS_ALLOW_PRIVATE is for local development (DEBUG on) only: in "
        "production it would let any creator make Phoenix send requests to its own network."
    )
# A delivery waits this long for the receiver's answer (connect and read, each).
PHOENIX_WEBHOOK_TIMEOUT = envfloat("PHOENIX_WEBHOOK_TIMEOUT", 10)
# Tries per delivery (timeouts, connection errors, 5xx and 429 are tried again): the waits
# between them grow from PHOENIX_WEBHOOK_RETRY_BASE seconds, three times longer each (with
# jitter), up to PHOENIX_WEBHOOK_RETRY_CAP: 10 tries span about a day with the defaults.
PHOENIX_WEBHOOK_MAX_ATTEMPTS = envint("PHOENIX_WEBHOOK_MAX_ATTEMPTS", 10)
PHOENIX_WEBHOOK_RETRY_BASE = envfloat("PHOENIX_WEBHOOK_RETRY_BASE", 60)
PHOENIX_WEBHOOK_RETRY_CAP = envfloat("PHOENIX_WEBHOOK_RETRY_CAP", 6 * 3600)
# An endpoint whose deliveries have all failed for this many days is disabled and its owner
# told (the bell and an e-mail).
PHOENIX_WEBHOOK_DISABLE_AFTER_DAYS = envfloat("PHOENIX_WEBHOOK_DISABLE_AFTER_DAYS", 5)
# After a rotation the previous secret still signs (beside the new one) this many hours.
PHOENIX_WEBHOOK_SECRET_OVERLAP_HOURS = envfloat("PHOENIX_WEBHOOK_SECRET_OVERLAP_HOURS", 24)
PHOENIX_WEBHOOKS_PER_USER = envint("PHOENIX_WEBHOOKS_PER_USER", 10)
# tokens.low: sent when a balance goes from this many tokens or more to fewer.
PHOENIX_TOKENS_LOW_THRESHOLD = envint("PHOENIX_TOKENS_LOW_THRESHOLD", 10)

if MISCONFIGURED:
    raise ImproperlyConfigured(
        "Phoenix cannot start with these settings:\n- " + "\n- ".join(MISCONFIGURED)
    )
