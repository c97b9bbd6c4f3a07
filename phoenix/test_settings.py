"""Settings for the test suite: the real PostgreSQL and Redis, a Redis database of its own,
fast password hashing, and small media so the suite stays quick."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
os.environ.setdefault(
    "PHOENIX_STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage"
)
# Each xdist worker gets its own Redis database so flushing one never touches another.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or "0"
# PHOENIX_TEST_REDIS_BASE lets two test runs on one machine keep out of each other's way.
_redis_db = int(os.environ.get("PHOENIX_TEST_REDIS_BASE", "10")) + int(_worker)
os.environ.setdefault("REDIS_URL", f"redis://127.0.0.1:6379/{_redis_db}")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="phoenix-test-media-"))
os.environ.setdefault("PHOENIX_LOCAL_VIDEO_SECONDS", "2")
os.environ.setdefault("PHOENIX_TRANSIENT_BACKOFF", "0.01")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
