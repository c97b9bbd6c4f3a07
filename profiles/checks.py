from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def client_address_behind_a_proxy(app_configs, **kwargs):
    """Behind the TLS proxy production runs behind, REMOTE_ADDR is the proxy's address for
    every client: the log-in and sign-up throttles would count the whole world as one
    network."""
    if settings.SECURE_PROXY_SSL_HEADER and settings.PHOENIX_CLIENT_IP_HEADER == "REMOTE_ADDR":
        return [
            Warning(
                "PHOENIX_CLIENT_IP_HEADER is REMOTE_ADDR behind a proxy: every client would "
                "share the proxy's address in the log-in and sign-up throttles.",
                hint="Set it to the header the proxy sets, e.g. HTTP_CF_CONNECTING_IP or "
                "HTTP_X_FORWARDED_FOR.",
                id="phoenix.W001",
            )
        ]
    return []
