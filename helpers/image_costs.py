"""What a picture costs in input tokens, by the rules OpenAI and Google publish (figures in catalog.py).

Lesson 11 prints a table from these. They are estimates: the providers' own
`usage.prompt_tokens`, with and without the picture, is the measurement.
"""

from __future__ import annotations

import math
from fractions import Fraction

from . import catalog


class ImageRefused(ValueError):
    """The picture needs more patches than OpenAI accepts for one image: the request is refused (400)."""


def _fit(width: int, height: int, side: int) -> tuple[int, int]:
    """Scaled down, aspect ratio kept, to fit in side x side; never scaled up."""
    scale = min(1.0, side / width, side / height)
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def openai_patches(width: int, height: int, detail: str = "auto", rule=catalog.OPENAI_IMAGE_PATCHES) -> int:
    """Steps A to C of OpenAI's patch method: the 32 x 32 patches a picture is counted in."""
    sizing = rule.sizing[rule.auto if detail == "auto" else detail]
    width, height = _fit(width, height, sizing.max_side)
    p = rule.patch
    patches = math.ceil(width / p) * math.ceil(height / p)
    if sizing.budget and patches > sizing.budget:
        shrink = math.sqrt(p * p * sizing.budget / (width * height))
        shrink *= min(
            math.floor(width * shrink / p) / (width * shrink / p),
            math.floor(height * shrink / p) / (height * shrink / p),
        )
        width, height = math.floor(width * shrink), math.floor(height * shrink)
        patches = math.ceil(width / p) * math.ceil(height / p)
    if patches > rule.max_patches:
        raise ImageRefused(f"{patches:,} patches: more than the {rule.max_patches:,} OpenAI accepts for one image")
    return patches


def openai_image_tokens(width: int, height: int, detail: str = "auto", rule=catalog.OPENAI_IMAGE_PATCHES) -> int:
    """Step D: the patches times the model's multiplier, rounded up: the input tokens billed."""
    return math.ceil(openai_patches(width, height, detail, rule) * Fraction(str(rule.multiplier)))


def openai_tile_tokens(width: int, height: int, detail: str = "high", rule=catalog.OPENAI_IMAGE_TILES) -> int:
    """The older tile method (gpt-4o, gpt-4.1), for comparison."""
    if detail == "low":
        return rule.low
    width, height = _fit(width, height, rule.fit)
    if min(width, height) > rule.short_side:
        scale = rule.short_side / min(width, height)
        width, height = math.floor(width * scale), math.floor(height * scale)
    return rule.base + rule.per_tile * math.ceil(width / rule.tile) * math.ceil(height / rule.tile)


def gemini_image_tokens(media_resolution: str | None = None, rule=catalog.GEMINI_MEDIA_RESOLUTION) -> int:
    """Gemini 3: one picture's budget at a `media_resolution` (None: the default), whatever its size."""
    return rule.tokens[media_resolution or rule.default]


def dollars(tokens: int, model: str) -> float:
    """What this many input tokens cost at the model's input price in catalog.PRICES."""
    return tokens * catalog.PRICES[model].input / 1_000_000
