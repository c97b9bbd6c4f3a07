"""Signing per the Standard Webhooks specification (standardwebhooks.com), with its
reference library, so a receiver verifies with the same library:
`Webhook(secret).verify(body, headers)`.

A secret is `whsec_` and base64 of 32 random bytes. The signature header is a
space-separated list of `v1,<base64 HMAC-SHA256>` over `"{webhook-id}.{timestamp}.{body}"`,
one per secret in use: two during the 24 hours after a rotation (the new secret's first),
so a receiver that still has the old secret keeps verifying until it switches.
"""

import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
USER_AGENT = "Phoenix-Webhooks/1"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signed_headers(
    *, webhook_id: str, timestamp: datetime, body: str, secrets_in_use: list[str]
) -> dict[str, str]:
    signatures = " ".join(
        Webhook(secret).sign(msg_id=webhook_id, timestamp=timestamp, data=body)
        for secret in secrets_in_use
    )
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
