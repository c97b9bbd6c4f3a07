"""Providers and storages for pipeline tests: each behaves by the prompt it is given.

They stand in for the outside world (a remote generator, a bucket), never for our code.
"""

import io

from django.core.files.storage import FileSystemStorage
from PIL import Image

from creations.models import Creation
from creations.providers import (
    GeneratedMedia,
    PolicyViolationError,
    ProviderError,
    SafetyFilterError,
    TransientProviderError,
)
from creations.providers.local import LocalProvider

calls: dict[str, int] = {}


def tiny_png(width: int = 8, height: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


class ScriptedProvider:
    """'transient:N' fails N times then works; 'safety', 'policy', 'crash', 'always-transient'
    fail that way; 'recover-meanwhile' lets the recovery pass fail the creation mid-job."""

    def _act(self, prompt: str) -> None:
        calls[prompt] = calls.get(prompt, 0) + 1
        if prompt == "safety":
            raise SafetyFilterError("flagged")
        if prompt == "policy":
            raise PolicyViolationError("policy")
        if prompt == "crash":
            raise ProviderError("secret internal detail 0xDEADBEEF")
        if prompt == "always-transient":
            raise TransientProviderError("503 from upstream")
        if prompt.startswith("transient:") and calls[prompt] <= int(prompt.split(":")[1]):
            raise TransientProviderError("timeout")
        if prompt == "recover-meanwhile":
            from datetime import timedelta

            from django.utils import timezone

            from creations.jobs.recovery import creations_recover

            creations_recover(now=timezone.now() + timedelta(days=1))

    def generate_image(self, *, prompt: str, aspect_ratio: str, seed: int) -> GeneratedMedia:
        self._act(prompt)
        return GeneratedMedia(tiny_png(), "png", "image/png", 8, 8)

    def generate_video(self, *, prompt, orientation, seed, on_progress) -> GeneratedMedia:
        on_progress(40)
        progress_seen = Creation.objects.filter(status="processing").values_list(
            "progress", flat=True
        )
        calls["progress_seen"] = list(progress_seen)
        self._act(prompt)
        return LocalProvider().generate_video(
            prompt="ok", orientation=orientation, seed=seed, on_progress=on_progress
        )


class PosterFailsStorage(FileSystemStorage):
    """A storage whose .jpg uploads fail, as a bucket that errors half-way would."""

    def _save(self, name, content):
        if name.endswith(".jpg"):
            raise OSError("upload failed: 500 from storage")
        return super()._save(name, content)


class BrokenStorage(FileSystemStorage):
    def _save(self, name, content):
        raise OSError("storage is down")
