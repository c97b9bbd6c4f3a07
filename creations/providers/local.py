"""The offline provider: real PNGs and H.264 MP4s made on this machine, no network."""

import hashlib
import io
import os
import random
import tempfile
import textwrap
import time

import imageio_ffmpeg
from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

from . import (
    IMAGE_SIZES,
    GeneratedMedia,
    PolicyViolationError,
    ProgressCallback,
    SafetyFilterError,
)

VIDEO_SIZES = {"landscape": (1280, 720), "portrait": (720, 1280)}
VIDEO_FPS = 24


def check_prompt(prompt: str) -> None:
    lowered = prompt.lower()
    for term in settings.PHOENIX_SAFETY_BLOCKLIST:
        if term.lower() in lowered:
            raise SafetyFilterError(f"blocked term {term!r}")
    for term in settings.PHOENIX_POLICY_BLOCKLIST:
        if term.lower() in lowered:
            raise PolicyViolationError(f"policy term {term!r}")


def _palette(prompt: str, seed: int) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{prompt}".encode()).digest()
    return random.Random(digest)


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


def _scene(prompt: str, seed: int, size: tuple[int, int]) -> Image.Image:
    """A deterministic abstract picture of the prompt: gradient, shapes, the words."""
    rng = _palette(prompt, seed)
    width, height = size
    top, bottom = _colour(rng), _colour(rng)
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), gradient)
    draw = ImageDraw.Draw(image, "RGBA")
    for _ in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(min(size) // 12, min(size) // 3)
        fill = (*_colour(rng), rng.randrange(60, 160))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
        else:
            draw.rectangle((x - r, y - r // 2, x + r, y + r // 2), fill=fill)
    font = ImageFont.load_default(size=max(16, min(size) // 24))
    text = "\n".join(textwrap.wrap(prompt, width=36)[:6])
    draw.multiline_text(
        (width // 16, height - height // 3),
        text,
        font=font,
        fill=(255, 255, 255, 230),
        stroke_width=2,
        stroke_fill=(0, 0, 0, 200),
    )
    return image


def _wait(on_progress: ProgressCallback | None = None, upto: int = 0) -> None:
    delay = settings.PHOENIX_LOCAL_PROVIDER_DELAY
    if delay <= 0:
        return
    steps = max(1, int(delay * 4))
    for step in range(steps):
        time.sleep(delay / steps)
        if on_progress is not None:
            on_progress(upto * (step + 1) // steps)


def _cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The still scaled to fill the frame and cut to it, centred."""
    width, height = size
    scale = max(width / image.width, height / image.height)
    resized = image.convert("RGB").resize(
        (max(width, round(image.width * scale)), max(height, round(image.height * scale))),
        Image.Resampling.LANCZOS,
    )
    left, top = (resized.width - width) // 2, (resized.height - height) // 2
    return resized.crop((left, top, left + width, top + height))


# An animated still ends this much closer than it starts.
STILL_ZOOM = 0.2


def _still_frame(still: Image.Image, t: float) -> Image.Image:
    """A slow zoom into the still: frame 0 is the still itself."""
    width, height = still.size
    scale = 1 + STILL_ZOOM * t
    crop_w, crop_h = width / scale, height / scale
    left, top = (width - crop_w) / 2, (height - crop_h) / 2
    box = (left, top, left + crop_w, top + crop_h)
    return still.resize((width, height), Image.Resampling.BILINEAR, box=box)


class LocalProvider:
    # Same prompt, settings and seed give byte-identical media.
    honours_seed = True

    def generate_image(self, *, prompt: str, aspect_ratio: str, seed: int) -> GeneratedMedia:
        check_prompt(prompt)
        _wait()
        size = IMAGE_SIZES[aspect_ratio]
        buffer = io.BytesIO()
        _scene(prompt, seed, size).save(buffer, format="PNG", compress_level=1)
        return GeneratedMedia(buffer.getvalue(), "png", "image/png", *size)

    def generate_video(
        self,
        *,
        prompt: str,
        orientation: str,
        seed: int,
        on_progress: ProgressCallback,
        image: bytes | None = None,
    ) -> GeneratedMedia:
        check_prompt(prompt)
        _wait(on_progress, upto=30)
        width, height = VIDEO_SIZES[orientation]
        still = _cover(Image.open(io.BytesIO(image)), (width, height)) if image else None
        backdrop = None if still else _scene(prompt, seed, (width * 2, height * 2))
        frames = settings.PHOENIX_LOCAL_VIDEO_SECONDS * VIDEO_FPS
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "video.mp4")
            writer = imageio_ffmpeg.write_frames(
                path,
                (width, height),
                fps=VIDEO_FPS,
                codec="libx264",
                quality=None,
                bitrate=None,
                macro_block_size=8,
                pix_fmt_out="yuv420p",
                output_params=["-preset", "veryfast", "-crf", "28", "-movflags", "+faststart"],
                ffmpeg_log_level="error",
            )
            writer.send(None)
            poster = None
            for index in range(frames):
                # A slow pan across a scene twice the frame's size.
                t = index / max(1, frames - 1)
                if still is not None:
                    frame = _still_frame(still, t)
                else:
                    left, top = int(t * width), int(t * height * 0.5)
                    frame = backdrop.crop((left, top, left + width, top + height))
                if index == 0:
                    poster = frame
                writer.send(frame.tobytes())
                if index % VIDEO_FPS == 0:
                    on_progress(30 + 65 * index // frames)
            writer.close()
            _, duration = imageio_ffmpeg.count_frames_and_secs(path)
            with open(path, "rb") as handle:
                content = handle.read()
        buffer = io.BytesIO()
        poster.save(buffer, format="JPEG", quality=85)
        return GeneratedMedia(
            content, "mp4", "video/mp4", width, height, buffer.getvalue(), round(duration, 2)
        )
