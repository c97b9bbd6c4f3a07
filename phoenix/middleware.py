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


def build_policy() -> str:
    media = " ".join(["'self'", *media_origins()])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {media} data:",
            f"media-src {media}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = build_policy()

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
