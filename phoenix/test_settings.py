"""Settings for the test suite: the real PostgreSQL and Redis, a Redis database of its own,
fast password hashing, and small media so the suite stays quick."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("PHOENIX_SITE_URL", "http://testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
os.environ.setdefault(
    "PHOENIX_STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage"
)
os.environ.setdefault("PHOENIX_LOCAL_VIDEO_SECONDS", "2")
os.environ.setdefault("PHOENIX_TRANSIENT_BACKOFF", "0.01")
# Staff fixtures log in with force_login (no code step): the suite turns the staff 2FA
# requirement off, and the tests about it (tests/accounts) turn it on.
os.environ.setdefault("PHOENIX_STAFF_REQUIRE_2FA", "0")
# Many tests create and cancel dozens of creations in a second: the per-account limits are
# off, and tests/creations/test_create_cancel_limits.py turns them on.
os.environ.setdefault("PHOENIX_CREATES_PER_MINUTE", "0")
os.environ.setdefault("PHOENIX_CANCELS_PER_HOUR", "0")

# Each xdist worker gets its own Redis database and media folder, so one never flushes or
# counts the other's. They are given to settings.py for its import only: pytest's main
# process loads these settings too, before it starts the workers, and whatever it left in
# os.environ would be inherited by both of them. (A worker subprocess started by a test
# gets REDIS_URL and MEDIA_ROOT explicitly and keeps them.)
_worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or "0")
# PHOENIX_TEST_REDIS_BASE lets two test runs on one machine keep out of each other's way.
_redis_db = int(os.environ.get("PHOENIX_TEST_REDIS_BASE", "10")) + _worker
# PHOENIX_TEST_REDIS_PORT: a run can also take a Redis server of its own.
_redis_port = int(os.environ.get("PHOENIX_TEST_REDIS_PORT", "6379"))
_per_worker = {
    "REDIS_URL": f"redis://127.0.0.1:{_redis_port}/{_redis_db}",
    "MEDIA_ROOT": tempfile.mkdtemp(prefix=f"phoenix-test-media-{_worker}-"),
}
_per_worker = {name: value for name, value in _per_worker.items() if name not in os.environ}
os.environ.update(_per_worker)
try:
    from .settings import *  # noqa: E402,F403
finally:
    for _name in _per_worker:
        del os.environ[_name]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Every e-mail sent, by the test's process or by a real RQ worker process it started, is kept
# as a file in a folder of this run (tests/mailbox.py): a worker process's e-mails reach the
# test (tests.conftest.sent_emails). A worker subprocess is given the folder's path.
EMAIL_BACKEND = "tests.mailbox.SharedMailbox"
EMAIL_FILE_PATH = os.environ.get("PHOENIX_TEST_MAIL_DIR") or tempfile.mkdtemp(
    prefix=f"phoenix-test-mail-{_worker}-"
)
