"""The test suite's e-mail backend: every message sent — by the test's own process (the live
server's thread included) or by a real RQ worker process the test started — is kept as one
file in the run's mail folder (settings.EMAIL_FILE_PATH, handed to worker processes by
tests.conftest.worker_environment), and, sent in this process, in Django's test outbox too.

Django's locmem backend keeps messages in the memory of the process that sent them, so a
worker process's e-mails were lost to the test; the folder is shared by every process of
the run. tests.conftest.sent_emails reads it back, oldest first."""

import base64
import json
import os
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class SharedMailbox(LocmemBackend):
    def send_messages(self, messages: list[EmailMessage]) -> int:
        sent = super().send_messages(messages)
        for message in messages:
            keep(message, Path(settings.EMAIL_FILE_PATH))
        return sent


def keep(message: EmailMessage, folder: Path) -> Path:
    """Write one message as a JSON file, named so that the names sort in sending order
    (nanoseconds, then the process and a random part), and complete before it appears."""
    fields = {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "alternatives": [list(alternative) for alternative in getattr(message, "alternatives", [])],
        "attachments": [_attachment(attachment) for attachment in message.attachments],
    }
    name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.partial"
    partial.write_text(json.dumps(fields))
    return partial.replace(folder / f"{name}.json")


def _attachment(attachment) -> list:
    filename, content, mimetype = attachment
    if isinstance(content, str):
        content = content.encode()
    return [filename, base64.b64encode(content).decode(), mimetype]


def read(folder: Path) -> list[EmailMultiAlternatives]:
    """Every message kept in `folder`, oldest first."""
    messages = []
    for path in sorted(folder.glob("*.json")):
        fields = json.loads(path.read_text())
        attachments = fields.pop("attachments")
        alternatives = [tuple(alternative) for alternative in fields.pop("alternatives")]
        message = EmailMultiAlternatives(**fields, alternatives=alternatives)
        for filename, content, mimetype in attachments:
            message.attach(filename, base64.b64decode(content), mimetype)
        messages.append(message)
    return messages


def empty(folder: Path) -> None:
    for path in folder.glob("*.json"):
        path.unlink(missing_ok=True)
