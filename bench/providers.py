"""An image provider that answers at once, so the worker benchmark measures our job path
(claim, store, complete) and RQ rather than image generation."""

import base64

from creations.providers import GeneratedMedia

# An 8×8 orange PNG, ready-made: importing Pillow in every forked work horse would cost
# more than the job itself.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAFElEQVR4nGP8ECXHgA0wYRUdtBIAHlkBeAOc0YkAAAAASUVORK5CYII="
)


class InstantProvider:
    def generate_image(self, *, prompt: str, aspect_ratio: str, seed: int) -> GeneratedMedia:
        return GeneratedMedia(TINY_PNG, "png", "image/png", 8, 8)
