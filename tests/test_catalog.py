"""Facts that go stale cite a source checked in 2026, and no lesson names a retired model.

These tests read fixed data (the dates written in the catalogue), never today's date:
a test must not fail because the calendar moved. The doctor is where staleness shows.
"""

import json
import re
from pathlib import Path

import pytest

from helpers import catalog

ROOT = Path(__file__).resolve().parent.parent
# Anything shut down, or due to shut down, before this date must not be a default or in lesson code.
HORIZON = "2027-01-15"
RETIRING = sorted(model for model, (date, _, _) in catalog.RETIREMENTS.items() if date < HORIZON)


def _names(text: str) -> set[str]:
    return {model for model in RETIRING if re.search(rf"(?<![\w.-]){re.escape(model)}(?![\w.]|-\w)", text)}


def test_every_provider_default_cites_a_source_checked_in_2026():
    for facts in catalog.PROVIDERS.values():
        assert facts.source is not None, facts.name
        assert facts.source.url.startswith("https://"), facts.name
        assert facts.source.checked.startswith("2026-"), facts.name


def test_every_price_cites_a_source_and_has_a_cached_input_column():
    for model, price in catalog.PRICES.items():
        assert price.source.checked.startswith("2026-"), model
        assert price.cached_input is None or 0 <= price.cached_input <= price.input, model


def test_every_retirement_cites_a_source_and_a_current_replacement():
    for model, (date, replacement, source) in catalog.RETIREMENTS.items():
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", date), model
        assert source.checked.startswith("2026-"), model
        assert replacement not in RETIRING, (model, replacement)


def test_responses_api_support_covers_every_provider_and_cites_a_source():
    assert set(catalog.RESPONSES_API) == set(catalog.PROVIDERS) | {catalog.OFFLINE_MODEL}
    for name, support in catalog.RESPONSES_API.items():
        assert support.source.checked.startswith("2026-"), name
        assert support.serves or not support.stored_state, name


def test_the_responses_rules_match_the_specification_the_offline_server_checks():
    document = json.loads((ROOT / "helpers" / "offline" / "openai_request_schemas.json").read_text())
    schemas = document["components"]["schemas"]
    fields = {k: v for part in schemas["CreateResponse"]["allOf"] for k, v in part.get("properties", {}).items()}
    assert fields["max_output_tokens"]["anyOf"][0]["minimum"] == catalog.RESPONSES_MIN_OUTPUT_TOKENS
    assert fields["store"]["anyOf"][0]["default"] is catalog.RESPONSES_STORE_DEFAULT
    summary = schemas["Reasoning"]["properties"]["summary"]["anyOf"][0]["enum"]
    assert tuple(summary) == catalog.REASONING_SUMMARIES
    assert document["source"] == catalog.RESPONSES_FACTS_SOURCE.url


@pytest.mark.parametrize("facts", catalog.PROVIDERS.values(), ids=lambda facts: facts.name)
def test_no_default_is_retiring(facts):
    assert facts.model not in RETIRING
    assert facts.model in catalog.PRICES


def _code_cells(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")


FILES = (
    [(path, _code_cells) for path in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    + [(path, Path.read_text) for path in sorted((ROOT / "solutions").glob("*.py"))]
    + [(path, Path.read_text) for path in sorted((ROOT / "helpers" / "exercises").glob("*.py"))]
    + [(ROOT / name, Path.read_text) for name in (".env.example", "README.md")]
)


@pytest.mark.parametrize(("path", "read"), FILES, ids=[str(path.relative_to(ROOT)) for path, _ in FILES])
def test_no_lesson_code_checker_or_solution_names_a_retiring_model(path, read):
    assert _names(read(path)) == set(), f"{path.name} names a model shut down before {HORIZON}"


def test_the_scan_would_catch_one():
    assert _names('model="gpt-5-nano"') == {"gpt-5-nano"}
    assert _names("gpt-5.4-mini and gpt-6-luna") == set()


def test_tool_calling_facts_cover_every_provider_and_cite_a_source():
    assert set(catalog.TOOL_CALLING) == set(catalog.PROVIDERS)
    for name, facts in catalog.TOOL_CALLING.items():
        assert facts.provider == name and facts.note.strip()
        assert facts.source.url.startswith("https://") and facts.source.checked.startswith("2026-"), name


def test_every_model_a_lesson_names_says_whether_it_reads_images():
    for model in [facts.model for facts in catalog.PROVIDERS.values()] + [catalog.OLLAMA_VISION_MODEL]:
        reads, source = catalog.IMAGE_INPUT[model]
        assert isinstance(reads, bool) and source.checked.startswith("2026-"), model
    assert catalog.IMAGE_INPUT[catalog.OFFLINE_MODEL][0] is False  # the offline server refuses image parts


def test_image_cost_rules_cite_a_page_read_on_the_day_and_cover_the_default_models():
    patches, gemini = catalog.OPENAI_IMAGE_PATCHES, catalog.GEMINI_MEDIA_RESOLUTION
    assert patches.model == catalog.OPENAI.model and set(patches.sizing) == {"low", "high", "original"}
    assert patches.auto in patches.sizing and gemini.default in gemini.tokens
    for rule in (patches, catalog.OPENAI_IMAGE_TILES, gemini):
        assert rule.source.url.startswith("https://") and rule.source.checked == catalog.IMAGES_CHECKED
    assert catalog.IMAGE_REQUEST_MAX_BYTES == 512 * 1024**2  # the guide's limit, not the 50 MB it once gave


def _every_source_in_the_module():
    """Every Source the catalogue module holds, under any name, private ones included (by identity)."""
    found, stack, seen = {}, list(vars(catalog).values()), set()
    while stack:
        value = stack.pop()
        if isinstance(value, catalog.Source):
            found[id(value)] = value
        elif isinstance(value, (str, int, float, bool, type(None))) or id(value) in seen or callable(value):
            continue
        else:
            seen.add(id(value))
            if isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, (tuple, list)):
                stack.extend(value)
            elif hasattr(value, "__dataclass_fields__"):
                stack.extend(getattr(value, field) for field in value.__dataclass_fields__)
    return found


def test_facts_by_age_finds_every_source_in_the_catalogue():
    listed = {id(source) for _, source in catalog.sourced_facts()}
    missing = [s.url for key, s in _every_source_in_the_module().items() if key not in listed]
    assert missing == [], f"a Source no public table uses: {missing}"


def test_facts_by_age_names_each_fact_by_its_table_and_row():
    labels = {label for label, _ in catalog.sourced_facts()}
    for table in ("PRICES", "RETIREMENTS", "CONTEXT_WINDOWS", "IMAGE_INPUT", "TOOL_CALLING", "RESPONSES_API"):
        assert {f"{table} {key}" for key in getattr(catalog, table)} <= labels, table
    assert {f"MODEL_RULES {rule.prefix}" for rule in catalog.MODEL_RULES} <= labels
    assert {"OPENAI", "GEMINI", "OLLAMA", "KEY_FORMATS_SOURCE", "OPENAI_IMAGE_TILES"} <= labels


def test_facts_by_age_are_sorted_oldest_first_and_printed_one_a_line(capsys):
    facts = catalog.sourced_facts()
    dates = [source.checked for _, source in facts]
    assert dates == sorted(dates) and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in dates)
    catalog.main()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(facts)
    for line, (label, source) in zip(lines, facts, strict=True):
        assert line.startswith(source.checked) and label in line and source.url in line
        assert not source.note or source.note in line
