"""A Content-Security-Policy on every response: the second line of defence behind escaping.

Scripts only from our own static files (htmx and phoenix.js, never inline); styles from
our files plus inline ones (htmx adds its indicator style, and a progress bar sets its
width); media from us and from the storage that presigned media URLs redirect to.
"""

from urllib.parse import urlsplit

from django.conf import settings


def media_origins() -> list[str]:
    """Where media may come from besides us: the storage presigned media URLs redirect to,
    and any origins added by PHOENIX_CSP_MEDIA_ORIGINS (a CDN, say)."""
    return [*storage_origins(), *settings.PHOENIX_CSP_MEDIA_ORIGINS]


def storage_origins() -> list[str]:
    if not settings.PHOENIX_S3_BUCKET:
        return []
    options = settings.STORAGES["default"]["OPTIONS"]
    endpoint = options.get("endpoint_url")
    if not endpoint:
        return ["https://*.amazonaws.com"]
    parts = urlsplit(endpoint)
    if options.get("addressing_style") == "virtual":
        # Presigned URLs then name the bucket as a subdomain of the endpoint.
        return [f"{parts.scheme}://{options['bucket_name']}.{parts.netloc}"]
    return [f"{parts.scheme}://{parts.netloc}"]


def checkout_origins() -> list[str]:
    """Where the buy form may send the browser: Stripe's hosted Checkout, or the fake
    Stripe's own page (STRIPE_API_BASE) in tests and `make run`."""
    origins = ["https://checkout.stripe.com"]
    if settings.STRIPE_API_BASE:
        parts = urlsplit(settings.STRIPE_API_BASE)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


def build_policy() -> str:
    media = " ".join(["'self'", *media_origins()])
    forms = " ".join(["'self'", *checkout_origins()])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {media} data:",
            f"media-src {media}",
            "object-src 'none'",
            "base-uri 'self'",
            # A form's redirect counts too: the buy form's 303 to Stripe Checkout.
            f"form-action {forms}",
            "frame-ancestors 'none'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policies: dict[str, str] = {}

    def __call__(self, request):
        response = self.get_response(request)
        # Built once per Stripe address (fixed in production; a test's fake moves it).
        policy = self.policies.get(settings.STRIPE_API_BASE)
        if policy is None:
            policy = self.policies[settings.STRIPE_API_BASE] = build_policy()
        response.headers.setdefault("Content-Security-Policy", policy)
        return response
