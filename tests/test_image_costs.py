"""helpers.image_costs: the worked examples of OpenAI's vision guide come out, and Gemini 3's budgets."""

import dataclasses

import pytest

from helpers import catalog, image_costs


def test_the_guides_patch_examples_come_out():
    # "gpt-5.4 with detail: high" (2048 px, 2,500 patches, 1.2 x): the sizing gpt-6-luna's siblings share.
    assert image_costs.openai_image_tokens(1024, 1024, "high") == 1229  # 32 x 32 patches, no resize
    assert image_costs.openai_image_tokens(2048, 2048, "high") == 3000  # scaled to 1600 x 1600: 2,500 patches
    # The older example for a model with a 1,536-patch budget: scaled to 1056 x 1408, 33 x 44 patches.
    older = dataclasses.replace(
        catalog.OPENAI_IMAGE_PATCHES, sizing={"high": catalog.PatchSizing(max_side=2048, budget=1536)}
    )
    assert image_costs.openai_patches(1800, 2400, "high", older) == 1452


def test_low_is_not_a_flat_price_and_auto_keeps_a_photos_size():
    low = [image_costs.openai_image_tokens(w, h, "low") for w, h in [(320, 200), (1024, 1024), (4000, 3000)]]
    assert low == [84, 308, 231]  # 70, 256 and 16 x 12 patches, times 1.2, rounded up
    # auto = original on gpt-6-luna's family: a 12-megapixel photo is counted at full size.
    assert image_costs.openai_image_tokens(4000, 3000) == image_costs.openai_image_tokens(4000, 3000, "original")
    assert image_costs.openai_image_tokens(4000, 3000) == 14100  # 125 x 94 patches x 1.2
    assert image_costs.openai_tile_tokens(4000, 3000) == 765  # the old tile rule: an order of magnitude less


def test_a_picture_over_the_patch_limit_is_refused_not_shrunk():
    with pytest.raises(image_costs.ImageRefused, match="30,000"):
        image_costs.openai_patches(8000, 6000, "original")
    assert image_costs.openai_patches(8000, 6000, "high") <= 2500  # high scales it down instead


def test_the_tile_rules_documented_examples_come_out():
    assert image_costs.openai_tile_tokens(1024, 1024) == 765  # 768 x 768: 4 tiles, 85 + 4 x 170
    assert image_costs.openai_tile_tokens(2048, 4096) == 1105  # 768 x 1536: 6 tiles
    assert image_costs.openai_tile_tokens(4096, 8192, "low") == 85


def test_gemini_prices_a_picture_by_media_resolution_not_by_size():
    assert image_costs.gemini_image_tokens() == 1120  # the default for images
    assert image_costs.gemini_image_tokens("low") == 280


def test_dollars_use_the_catalogues_input_price():
    assert image_costs.dollars(1_000_000, "gpt-6-luna") == catalog.PRICES["gpt-6-luna"].input
