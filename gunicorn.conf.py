"""gunicorn settings for the Procfile's `web` process (`gunicorn -c gunicorn.conf.py`),
all from the environment."""

import os


def _int(name: str, default: int) -> int:
    return int(os.getenv(name, str(default)))


# Settings build psycopg's connection pool (DATABASE_POOL_SIZE) for web processes only.
os.environ["PHOENIX_PROCESS"] = "web"

wsgi_app = "phoenix.wsgi:application"
# GUNICORN_BIND wins; a platform that hands out ports sets PORT.
bind = os.getenv("GUNICORN_BIND") or (
    f"0.0.0.0:{os.environ['PORT']}" if os.getenv("PORT") else "127.0.0.1:8000"
)
# Processes times threads is how many requests one host serves at once: the card polls
# are short and mostly wait on PostgreSQL, so threads go far (docs/deploy.md, sizing).
workers = _int("WEB_CONCURRENCY", 2)
threads = _int("GUNICORN_THREADS", 4)
# A worker is replaced after this many requests (jitter, so they do not all restart at
# once): whatever leaks slowly never grows for long.
# Tens of thousands, not the usual 1000: at poll-heavy load a process retiring every few
# seconds made the capacity bench's p95 (see docs/deploy.md, Sizing); leaks stay bounded.
max_requests = _int("GUNICORN_MAX_REQUESTS", 50000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 10)
# A worker process whose main loop is silent this long is killed and replaced. With
# threads this is not a per-request limit (a slow request in a thread does not trip it):
# requests are bounded by the database, Redis (REDIS_FAILOVER_WAIT is short in web
# processes) and provider timeouts instead.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM a worker stops accepting and has this long to finish the requests it has.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
accesslog = "-"
errorlog = "-"
loglevel = os.getenv("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# Auto-reload for `make run` only.
reload = os.getenv("GUNICORN_RELOAD", "0") == "1"
# Not preloaded: each worker imports the app after the fork, so nothing opened at import
# (a database pool, a Redis client) is shared by two processes.
preload_app = False
# The heartbeat files on memory, not on a disk that may stall (containers).
# (gunicorn makes each with mkstemp, so the shared directory is not a hazard.)
if os.path.isdir("/dev/shm"):  # nosec B108 # see above
    worker_tmp_dir = "/dev/shm"  # nosec B108 # see above
# The control socket defaults to one path per user: two gunicorns on one host would
# share it. Deploys use signals (TERM, HUP) instead.
control_socket_disable = True
proc_name = "phoenix-web"
