"""How often the offline model writes valid arguments for the shop's product tool: a free name, or an enum.

Before 2026-11-30 the support assistant's product tool took a free-text `name`; the 135M
model often invented names that match no product. Now `lookup_products` takes `category`,
an enum of the shop's seven categories. For the same 20 customer questions (the tool named
in tool_choice, as the app does offline), this counts calls whose arguments are valid (the
name matches a product / the category is one of the shop's) and, for the enum, whose
category holds the product asked about. `python benchmarks/tool_arguments.py`; `make bench`
adds the figures to BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

import openai

from helpers import local_server
from helpers.parameters import tool_options
from support_assistant import db
from support_assistant.tools import TOOLS

# (question, the product's category)
QUESTIONS = [
    ("Do you sell mugs?", "kitchen"),
    ("Is the green mug in stock?", "kitchen"),
    ("How much is the oak serving board?", "kitchen"),
    ("Do you have tea towels?", "kitchen"),
    ("Is the A6 linen notebook in stock?", "stationery"),
    ("How much is the brass pen?", "stationery"),
    ("Do you sell pen refills?", "stationery"),
    ("Do you have gift wrap?", "stationery"),
    ("Any postcards of river walks?", "stationery"),
    ("Is the walnut desk organiser available?", "desk"),
    ("How much is the cork desk mat?", "desk"),
    ("Do you sell a phone stand?", "desk"),
    ("Is the short beeswax candle in stock?", "home"),
    ("How much is the grey wool throw?", "home"),
    ("Do you have terracotta plant pots?", "home"),
    ("Do you sell a small watering can?", "garden"),
    ("Is there a herb seed tin?", "garden"),
    ("Do you have garden twine?", "garden"),
    ("How much is the canvas tote bag?", "bags"),
    ("Is the leather key fob in stock?", "bags"),
]

FREE_NAME_TOOL = {  # the tool as it was: any string
    "type": "function",
    "function": {
        "name": "lookup_product",
        "description": "Find products by (part of) their name: price and how many are in stock.",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "A word from the product's name, as the customer wrote it."}
            },
            "required": ["name"],
            "additionalProperties": False,
        },
    },
}
ENUM_TOOL = next(tool for tool in TOOLS if tool["function"]["name"] == "lookup_products")


def arguments(client, model: str, tool: dict, question: str) -> dict:
    response = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": question}],
        tools=[tool],
        tool_choice={"type": "function", "function": {"name": tool["function"]["name"]}},
        parallel_tool_calls=False,
        max_completion_tokens=60,
        **tool_options(model),
    )
    calls = response.choices[0].message.tool_calls
    return json.loads(calls[0].function.arguments) if calls else {}  # cut off by the length cap: no call


def measure(port: int | None = None) -> dict[str, int]:
    server = local_server.start(port)
    client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key, timeout=120, max_retries=0)
    shop = db.connect(db.create(os.path.join(tempfile.mkdtemp(), "shop.db")))
    names = [row[0] for row in shop.execute("SELECT name FROM products")]
    counts = {"questions": len(QUESTIONS), "free_valid": 0, "enum_valid": 0, "enum_right": 0}
    for question, category in QUESTIONS:
        name = arguments(client, server.model, FREE_NAME_TOOL, question).get("name", "").strip().lower()
        counts["free_valid"] += bool(name) and any(name in product.lower() for product in names)
        chosen = arguments(client, server.model, ENUM_TOOL, question).get("category")
        counts["enum_valid"] += chosen in db.CATEGORIES
        counts["enum_right"] += chosen == category
    return counts


def rows(counts: dict[str, int]) -> list[tuple[str, str]]:
    n = counts["questions"]
    return [
        ("Product tool, free-text name (before): calls whose name matches a product", f"{counts['free_valid']}/{n}"),
        ("Product tool, category enum (now): valid categories / the product's own", f"{counts['enum_valid']}/{n} / "
         f"{counts['enum_right']}/{n}"),
    ]  # fmt: skip


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else None
    for what, figure in rows(measure(port)):
        print(f"{what}: {figure}")
