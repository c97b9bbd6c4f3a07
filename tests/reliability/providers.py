"""Providers for the reliability suite: each does what its prompt says.

They stand in for a remote generator (the outside world), never for our own code, and
work in a real worker subprocess too (PHOENIX_IMAGE_PROVIDER="tests.reliability.providers:…").

Prompts: "sleep N" (answer after N seconds), "sleep N then crash", "error" (a generic
provider error), "transient" (always a timeout-like error), "transient once" (one such
error, then an answer), "malformed none" (media without content), "malformed object"
(not media at all); anything else answers at once.
"""

import base64
import time

from creations.providers import GeneratedMedia, ProviderError, TransientProviderError

TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAFElEQVR4nGP8ECXHgA0wYRUdtBIAHlkBeAOc0YkAAAAASUVORK5CYII="
)
calls: dict[str, int] = {}


class ScriptedProvider:
    def generate_image(self, *, prompt: str, aspect_ratio: str, seed: int) -> GeneratedMedia:
        calls[prompt] = calls.get(prompt, 0) + 1
        words = prompt.split()
        if words[:1] == ["sleep"]:
            time.sleep(float(words[1]))
            if prompt.endswith("then crash"):
                raise ProviderError("upstream 500 after a long wait")
        if prompt == "error":
            raise ProviderError("upstream said 500")
        if prompt == "transient":
            raise TransientProviderError("read timed out")
        if prompt == "transient once" and calls[prompt] == 1:
            raise TransientProviderError("read timed out")
        if prompt == "malformed none":
            return GeneratedMedia(None, "png", "image/png", 8, 8)  # type: ignore[arg-type]
        if prompt == "malformed object":
            return {"data": [{"b64_json": None}]}  # type: ignore[return-value]
        return GeneratedMedia(TINY_PNG, "png", "image/png", 8, 8)


SCRIPTED = "tests.reliability.providers:ScriptedProvider"
