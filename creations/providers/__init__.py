"""Media providers: one interface, chosen per type by settings, and a small error taxonomy."""

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Protocol

from django.conf import settings


class ProviderError(Exception):
    """Anything a provider raises that is not one of the kinds below: generic to the user."""


class SafetyFilterError(ProviderError):
    """The provider's safety system refused the prompt or the result. Never retried."""


class PolicyViolationError(ProviderError):
    """The request breaks the content policy. Never retried."""


class TransientProviderError(ProviderError):
    """Timeouts, 5xx, connection errors, rate limits: worth trying again after a pause.
    `maybe_sent`: a submit whose request may have reached the provider (its answer was
    lost), tried again only because it carries an idempotency key."""

    maybe_sent = False


class SubmissionUnconfirmed(ProviderError):
    """A submit sent without an idempotency key whose answer was lost (a read timeout): the
    provider may have started (and will bill) a task whose id we do not know. Never sent
    again: a second submit could start a second task."""

    maybe_sent = True


@dataclass(frozen=True)
class GeneratedMedia:
    content: bytes
    extension: str  # "png", "mp4"
    content_type: str
    width: int
    height: int
    poster: bytes | None = None  # JPEG, for videos
    duration_seconds: float | None = None


ProgressCallback = Callable[[int], None]


class ImageProvider(Protocol):
    def generate_image(self, *, prompt: str, aspect_ratio: str, seed: int) -> GeneratedMedia: ...


class VideoProvider(Protocol):
    def generate_video(
        self, *, prompt: str, orientation: str, seed: int, on_progress: ProgressCallback
    ) -> GeneratedMedia: ...


@dataclass(frozen=True)
class RemoteTask:
    """What a provider says about one of its tasks, at one check."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    GONE = "gone"  # the provider no longer knows the task (404)
    UNKNOWN = "unknown"  # the provider could not be asked this time (5xx, timeout)
    STATES = (RUNNING, SUCCEEDED, FAILED, GONE, UNKNOWN)

    state: str
    percent: int = 0
    output_url: str = ""
    error: ProviderError | None = None


class RemoteTaskProvider(Protocol):
    """A provider that runs a task on its side and is checked on, instead of a call that
    returns the media (Runway). No worker waits for it: a job submits and records the task
    id, a periodic job checks every such task, and a short job fetches the output."""

    runs_remote_tasks: bool  # True

    def submit_video(
        self, *, prompt: str, orientation: str, seed: int, idempotency_key: str | None = None
    ) -> str: ...

    def check_task(self, task_id: str) -> RemoteTask: ...

    def fetch_output(self, task: RemoteTask) -> GeneratedMedia: ...

    def cancel_task(self, task_id: str) -> None:
        """Returns once the provider acknowledged the cancel (or no longer knows the task);
        raises ProviderError when it could not be asked or refused."""


# Setting value → "module:Class". A dotted path is accepted too, for benchmarks and tests.
PROVIDERS = {
    "local": "creations.providers.local:LocalProvider",
    "openai": "creations.providers.openai_images:OpenAIImageProvider",
    "runway": "creations.providers.runway_video:RunwayVideoProvider",
}

IMAGE_SIZES = {
    "1:1": (1024, 1024),
    "16:9": (1280, 720),
    "9:16": (720, 1280),
    "4:3": (1024, 768),
    "3:4": (768, 1024),
}


def _load(name: str):
    target = PROVIDERS.get(name, name)
    module_name, _, class_name = target.partition(":")
    return getattr(import_module(module_name), class_name)()


def image_provider() -> ImageProvider:
    return _load(settings.PHOENIX_IMAGE_PROVIDER)


def video_provider() -> VideoProvider:
    return _load(settings.PHOENIX_VIDEO_PROVIDER)


def remote_provider(kind: str) -> RemoteTaskProvider | None:
    """The configured provider of this kind if it runs remote tasks, else None."""
    provider = video_provider() if kind == "video" else image_provider()
    return provider if getattr(provider, "runs_remote_tasks", False) else None


def honours_seed(kind: str) -> bool:
    """Whether the configured provider of this kind uses the seed it is given (the local
    one does, Runway's gen models do, OpenAI's images do not): the JSON says
    "seed_honored" and the card does not pretend."""
    provider_name = (
        settings.PHOENIX_VIDEO_PROVIDER if kind == "video" else settings.PHOENIX_IMAGE_PROVIDER
    )
    return bool(getattr(_load(provider_name), "honours_seed", False))


def cancel_remote_task(kind: str, task_id: str) -> None:
    """Cancel a provider's task (after the creation was canceled), where the configured
    provider has a cancel call. Raises ProviderError when the cancel was not acknowledged
    (the caller records it for a retry)."""
    provider = video_provider() if kind == "video" else image_provider()
    cancel = getattr(provider, "cancel_task", None)
    if cancel is not None:
        cancel(task_id)
