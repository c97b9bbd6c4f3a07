"""Phoenix's product settings: prices, limits and throttles, targets. Imported whole by
phoenix/settings.py (every name and environment variable as it was there)."""

import os

from phoenix.env import envfloat, envint, envlist

PHOENIX_WELCOME_TOKENS = envint("PHOENIX_WELCOME_TOKENS", 100)
# Welcome tokens are a promo lot that expires this many days after the grant (0: never).
PHOENIX_WELCOME_TOKENS_EXPIRE_DAYS = envint("PHOENIX_WELCOME_TOKENS_EXPIRE_DAYS", 90)
PHOENIX_COSTS = {"image": 1, "video": 10}
# Throttles (0 turns one off), counting a client by its IPv4 address or IPv6 /64. Failed
# log-ins in a window: per account from one network, per account from anywhere (a
# backstop), per network; sign-ups per network in a window.
PHOENIX_LOGIN_FAILURES = envint("PHOENIX_LOGIN_FAILURES", 10)
PHOENIX_LOGIN_FAILURES_PER_ACCOUNT = envint("PHOENIX_LOGIN_FAILURES_PER_ACCOUNT", 100)
PHOENIX_LOGIN_FAILURES_PER_NETWORK = envint("PHOENIX_LOGIN_FAILURES_PER_NETWORK", 100)
PHOENIX_LOGIN_FAILURE_WINDOW = envint("PHOENIX_LOGIN_FAILURE_WINDOW", 15 * 60)
PHOENIX_SIGNUPS_PER_NETWORK = envint("PHOENIX_SIGNUPS_PER_NETWORK", 10)
PHOENIX_SIGNUP_WINDOW = envint("PHOENIX_SIGNUP_WINDOW", 60 * 60)
# The same window per IPv6 /48 (a /48 is as cheap to rent as a /64; IPv4 counts as above).
PHOENIX_SIGNUPS_PER_WIDE_NETWORK = envint("PHOENIX_SIGNUPS_PER_WIDE_NETWORK", 30)
# Welcome grants given site-wide per UTC day (0: no cap); past it a confirmed creator's
# grant waits for the hourly catch-up, and the alert fires at PHOENIX_WELCOME_CAP_ALERT_SHARE.
PHOENIX_WELCOME_GRANTS_PER_DAY = envint("PHOENIX_WELCOME_GRANTS_PER_DAY", 1000)
PHOENIX_WELCOME_CAP_ALERT_SHARE = envfloat("PHOENIX_WELCOME_CAP_ALERT_SHARE", 0.8)
# A browser that has logged in to an account is remembered (a signed cookie) this long;
# it is not held to the per-account limit a stranger could fill, only to its own.
PHOENIX_KNOWN_DEVICE_DAYS = envint("PHOENIX_KNOWN_DEVICE_DAYS", 365)
PHOENIX_LOGIN_FAILURES_PER_DEVICE = envint("PHOENIX_LOGIN_FAILURES_PER_DEVICE", 20)
# E-mails sent on request (password resets, confirmation links) per network and per
# address in a window; a confirmation link works for this many days.
PHOENIX_EMAILS_PER_NETWORK = envint("PHOENIX_EMAILS_PER_NETWORK", 10)
PHOENIX_EMAILS_PER_ADDRESS = envint("PHOENIX_EMAILS_PER_ADDRESS", 3)
PHOENIX_EMAIL_WINDOW = envint("PHOENIX_EMAIL_WINDOW", 60 * 60)
PHOENIX_EMAIL_CONFIRM_DAYS = envint("PHOENIX_EMAIL_CONFIRM_DAYS", 7)
# Where the client's address is: REMOTE_ADDR, or the header a trusted proxy in front sets
# (HTTP_CF_CONNECTING_IP behind Cloudflare; HTTP_X_FORWARDED_FOR behind one load balancer,
# whose right-most entry is used).
PHOENIX_CLIENT_IP_HEADER = os.getenv("PHOENIX_CLIENT_IP_HEADER", "REMOTE_ADDR")
# The addresses (or networks) of our own proxies: only from them is that header believed.
# Loopback by default (a proxy on the same host).
PHOENIX_TRUSTED_PROXIES = os.getenv("PHOENIX_TRUSTED_PROXIES", "127.0.0.1/32,::1/128").split(",")
# At most this many creations of one creator queued or generating at once (0: no limit);
# one more is refused with 429 and this Retry-After, in seconds.
PHOENIX_MAX_IN_FLIGHT = envint("PHOENIX_MAX_IN_FLIGHT", 20)
# API keys: each key's own request window, on top of the account's limits; keys per account.
PHOENIX_API_KEY_REQUESTS = envint("PHOENIX_API_KEY_REQUESTS", 120)
PHOENIX_API_KEY_WINDOW = envint("PHOENIX_API_KEY_WINDOW", 60)
PHOENIX_API_KEYS_MAX = envint("PHOENIX_API_KEYS_MAX", 20)
PHOENIX_IN_FLIGHT_RETRY_AFTER = envint("PHOENIX_IN_FLIGHT_RETRY_AFTER", 10)
# Creations one account may start per minute (a batch of N counts N: each item is paid
# provider work) and cancels per hour; 0 turns a limit off. A create -> cancel loop is
# refunded every time while the provider bills for every task it started.
PHOENIX_CREATES_PER_MINUTE = envint("PHOENIX_CREATES_PER_MINUTE", 30)
PHOENIX_CANCELS_PER_HOUR = envint("PHOENIX_CANCELS_PER_HOUR", 60)
PHOENIX_IMAGE_PROVIDER = os.getenv("PHOENIX_IMAGE_PROVIDER", "local")
PHOENIX_VIDEO_PROVIDER = os.getenv("PHOENIX_VIDEO_PROVIDER", "local")
PHOENIX_LOCAL_PROVIDER_DELAY = envfloat("PHOENIX_LOCAL_PROVIDER_DELAY", 0)
PHOENIX_LOCAL_VIDEO_SECONDS = envint("PHOENIX_LOCAL_VIDEO_SECONDS", 8)
PHOENIX_SAFETY_BLOCKLIST = envlist(
    "PHOENIX_SAFETY_BLOCKLIST", "gore,beheading,sexual violence,child abuse,self-harm"
)
PHOENIX_POLICY_BLOCKLIST = envlist(
    "PHOENIX_POLICY_BLOCKLIST", "deepfake,counterfeit,mickey mouse,pikachu,celebrity nude"
)
# Job timeouts per type; a creation still processing (without a remote task) after its
# timeout plus the grace period is failed (worker_lost) and refunded by the recovery pass.
PHOENIX_JOB_TIMEOUT = {
    # Long enough for a remote image API's timeout times its transient retries.
    "image": envint("PHOENIX_IMAGE_JOB_TIMEOUT", 300),
    "video": envint("PHOENIX_VIDEO_JOB_TIMEOUT", 600),
}
PHOENIX_DEADLINE_GRACE = envint("PHOENIX_DEADLINE_GRACE", 60)
# A pending creation whose job is not in Redis after this long is enqueued again.
PHOENIX_REENQUEUE_AFTER = envint("PHOENIX_REENQUEUE_AFTER", 30)
PHOENIX_TRANSIENT_RETRIES = envint("PHOENIX_TRANSIENT_RETRIES", 3)
PHOENIX_TRANSIENT_BACKOFF = envfloat("PHOENIX_TRANSIENT_BACKOFF", 1.0)
PHOENIX_DRAFT_TTL_DAYS = envint("PHOENIX_DRAFT_TTL_DAYS", 30)
PHOENIX_DRAFT_EXPIRY_WARNING_DAYS = envint("PHOENIX_DRAFT_EXPIRY_WARNING_DAYS", 3)
# Trashed creations are purged (files deleted, words cleared, the row kept) after this.
PHOENIX_TRASH_DAYS = envint("PHOENIX_TRASH_DAYS", 7)
# The daily housekeeping job moves or purges at most this many creations, then queues
# itself again for the rest (each batch a short job).
PHOENIX_HOUSEKEEPING_BATCH = envint("PHOENIX_HOUSEKEEPING_BATCH", 200)
# An Undo of a delete within this many seconds takes it back whole (a post stays a post);
# a restore later, from the Trash tab, brings a post back as a draft.
PHOENIX_UNDO_SECONDS = envint("PHOENIX_UNDO_SECONDS", 600)
# At most this many creations in one bulk action.
PHOENIX_BULK_MAX = envint("PHOENIX_BULK_MAX", 100)
# The nav bell asks for its count this often (the drafts tab's card polls also refresh it
# when a creation ends).
PHOENIX_NOTIFICATIONS_POLL_SECONDS = envint("PHOENIX_NOTIFICATIONS_POLL_SECONDS", 45)

# Operations: /metrics takes this bearer token (or a staff session); empty turns tokens off.
PHOENIX_METRICS_TOKEN = os.getenv("PHOENIX_METRICS_TOKEN", "")
# /readyz answers from its probes' results for this many seconds (per process): a load
# balancer probing every second costs one database query, one Redis PING and INFO and one
# storage check per this many seconds, not per probe.
PHOENIX_READYZ_CACHE_SECONDS = envfloat("PHOENIX_READYZ_CACHE_SECONDS", 3)
PHOENIX_ALERT_QUEUE_DEPTH = envint("PHOENIX_ALERT_QUEUE_DEPTH", 50)
PHOENIX_ALERT_FAILURE_RATE = envfloat("PHOENIX_ALERT_FAILURE_RATE", 0.10)
# An account that cancels this many creations after their task reached the provider (it
# bills; the creator is refunded) within the alert window fires an alert (0: off).
PHOENIX_ALERT_CANCELS_AFTER_SUBMIT = envint("PHOENIX_ALERT_CANCELS_AFTER_SUBMIT", 20)
# Success targets: this share of each type finishes within these seconds.
PHOENIX_LATENCY_TARGETS = {
    "image": envint("PHOENIX_IMAGE_LATENCY_TARGET", 30),
    "video": envint("PHOENIX_VIDEO_LATENCY_TARGET", 180),
}
PHOENIX_LATENCY_TARGET_SHARE = envfloat("PHOENIX_LATENCY_TARGET_SHARE", 0.95)
# A failed or canceled video keeps its private copy of the still it started from this many
# days after it ended, so that it can be run again; then the daily housekeeping deletes the
# copy, and Run again says the image is no longer kept.
PHOENIX_SOURCE_COPY_DAYS = envint("PHOENIX_SOURCE_COPY_DAYS", 30)
