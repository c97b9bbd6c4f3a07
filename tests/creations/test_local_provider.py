import io

import pytest
from PIL import Image

from creations.providers import IMAGE_SIZES, PolicyViolationError, SafetyFilterError
from creations.providers.local import LocalProvider


def image(prompt: str, seed: int = 1, aspect_ratio: str = "1:1") -> bytes:
    return (
        LocalProvider().generate_image(prompt=prompt, aspect_ratio=aspect_ratio, seed=seed).content
    )


def test_the_same_prompt_and_seed_make_the_same_png():
    assert image("a lighthouse") == image("a lighthouse")
    assert image("a lighthouse") != image("a lighthouse", seed=2)
    assert image("a lighthouse") != image("a lighthouse at night")


@pytest.mark.parametrize("aspect_ratio", list(IMAGE_SIZES))
def test_the_png_has_the_requested_size(aspect_ratio):
    with Image.open(io.BytesIO(image("dunes", aspect_ratio=aspect_ratio))) as png:
        assert png.format == "PNG"
        assert png.size == IMAGE_SIZES[aspect_ratio]


def test_blocklisted_prompts_raise_the_right_error(settings):
    settings.PHOENIX_SAFETY_BLOCKLIST = ["gore"]
    settings.PHOENIX_POLICY_BLOCKLIST = ["deepfake", "pikachu"]
    with pytest.raises(SafetyFilterError):
        image("A lot of GORE please")
    with pytest.raises(PolicyViolationError):
        image("pikachu on a bike")
    assert image("a calm lake")


def test_the_default_blocklists_are_not_empty(settings):
    assert settings.PHOENIX_SAFETY_BLOCKLIST
    assert settings.PHOENIX_POLICY_BLOCKLIST
