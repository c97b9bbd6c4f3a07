"""Settings of the services Phoenix calls out to: the generation providers (OpenAI images,
Runway video and its remote tasks) and Stripe. Imported whole by phoenix/settings.py;
every name and environment variable is as it was there."""

import os

from phoenix.env import envfloat, envint

OPENAI_API_KEY = os.getenv("OPENAI_API_KEY", "")
OPENAI_BASE_URL = os.getenv("OPENAI_BASE_URL") or None
PHOENIX_OPENAI_IMAGE_MODEL = os.getenv("PHOENIX_OPENAI_IMAGE_MODEL", "gpt-image-1.5")
# Whole image request, generation included; keep it under the image job timeout.
PHOENIX_OPENAI_TIMEOUT = envfloat("PHOENIX_OPENAI_TIMEOUT", 60)

# Runway text-to-video (https://docs.dev.runwayml.com/api).
RUNWAY_API_KEY = os.getenv("RUNWAY_API_KEY", "")
RUNWAY_BASE_URL = os.getenv("RUNWAY_BASE_URL", "https://api.dev.runwayml.com")
RUNWAY_API_VERSION = os.getenv("RUNWAY_API_VERSION", "2024-11-06")
PHOENIX_RUNWAY_MODEL = os.getenv("PHOENIX_RUNWAY_MODEL", "gen4.5")
PHOENIX_RUNWAY_VIDEO_SECONDS = envint("PHOENIX_RUNWAY_VIDEO_SECONDS", 5)
# Image-to-video: Runway's model for a video that starts from a still, and how long the
# presigned URL it reads the still from lives (S3/R2; local files go as a data URI).
PHOENIX_RUNWAY_IMAGE_MODEL = os.getenv("PHOENIX_RUNWAY_IMAGE_MODEL", "gen4_turbo")
PHOENIX_INPUT_URL_SECONDS = envint("PHOENIX_INPUT_URL_SECONDS", 300)
PHOENIX_RUNWAY_POLL_INTERVAL = envfloat("PHOENIX_RUNWAY_POLL_INTERVAL", 5)
PHOENIX_RUNWAY_REQUEST_TIMEOUT = envfloat("PHOENIX_RUNWAY_REQUEST_TIMEOUT", 30)
# The header a submit carries its idempotency key in, when the provider honours one (a
# repeat with the same key answers the same task). Runway documents none: empty, and a
# submit whose answer was lost (read timeout) is then not sent again but failed, refunded
# and recorded as possibly submitted.
PHOENIX_RUNWAY_IDEMPOTENCY_HEADER = os.getenv("PHOENIX_RUNWAY_IDEMPOTENCY_HEADER", "")
# A provider cancel that failed is tried again after this many seconds, doubling each time
# up to an hour, until the provider acknowledges it (or PHOENIX_PROVIDER_CANCEL_GIVE_UP
# seconds after it was asked: the task has ended by itself long before).
PHOENIX_PROVIDER_CANCEL_BACKOFF = envint("PHOENIX_PROVIDER_CANCEL_BACKOFF", 30)
PHOENIX_PROVIDER_CANCEL_GIVE_UP = envint("PHOENIX_PROVIDER_CANCEL_GIVE_UP", 48 * 3600)
# Remote tasks (Runway): no worker waits for them. One periodic job checks every task in
# flight this often (Runway asks for no more than one look per task per 5 s); a creation
# whose task has not ended this long after it was claimed is failed, refunded and its
# task canceled (unless its result is being fetched: then up to three fetch timeouts
# later); the short job that fetches a result (job timeout PHOENIX_REMOTE_FETCH_TIMEOUT)
# is sent again if it has not finished twice that long after it was sent or started.
PHOENIX_REMOTE_CHECK_INTERVAL = envint("PHOENIX_REMOTE_CHECK_INTERVAL", 5)
PHOENIX_REMOTE_TASK_TIMEOUT = envint("PHOENIX_REMOTE_TASK_TIMEOUT", 1800)
PHOENIX_REMOTE_FETCH_TIMEOUT = envint("PHOENIX_REMOTE_FETCH_TIMEOUT", 300)
# One check asks no more after this many seconds (the tasks it did not reach come first
# next time), and gives each answer this long: a slow provider cannot pile checks up.
PHOENIX_REMOTE_CHECK_BUDGET = envfloat("PHOENIX_REMOTE_CHECK_BUDGET", 20)
PHOENIX_REMOTE_CHECK_HTTP_TIMEOUT = envfloat("PHOENIX_REMOTE_CHECK_HTTP_TIMEOUT", 5)
# A pending creation is failed (queue_stalled) only when nothing of its type has been
# started for this long while it waited: time in a moving queue is not a failure.
PHOENIX_QUEUE_STALL = envint("PHOENIX_QUEUE_STALL", 900)
# How long a cache (a browser, a CDN) may keep a published post's media without asking
# again: the longest an unpublished, trashed or taken-down post's file stays visible.
# 0: revalidated on every use (gone everywhere at once).
PHOENIX_PUBLIC_MEDIA_MAX_AGE = envint("PHOENIX_PUBLIC_MEDIA_MAX_AGE", 0)

# Buying tokens: Stripe Checkout through the official library. STRIPE_API_BASE empty is
# Stripe itself; `make run` and the tests point it at the fake in tokens/fake_stripe.py.
STRIPE_SECRET_KEY = os.getenv("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.getenv("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.getenv("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.getenv("STRIPE_API_BASE", "")
STRIPE_TIMEOUT = envfloat("STRIPE_TIMEOUT", 10)
# The nightly catch-up looks at paid Checkout Sessions created this many days back.
PHOENIX_PURCHASE_CATCH_UP_DAYS = envint("PHOENIX_PURCHASE_CATCH_UP_DAYS", 3)
