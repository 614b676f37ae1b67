"""Tool calling on the offline model: the tools described in the prompt, the calls written under a grammar.

llama-cpp-python's chat template for SmolLM2 leaves `tools` out of the prompt, so
the model never hears of them. Here the request is rewritten before it reaches
llama-cpp-python: the tools go into the system message (as `<tools>[...]</tools>`,
calls to be written as `<tool_call>[...]</tool_call>`), earlier
tool calls and tool results become text the template can show, and a grammar
built from the tools' parameter schemas decides what the model may write:

- "required" or a named function: only a call (of that function), so the
  arguments always parse as JSON and satisfy the tool's schema;
- "auto": a call or text (which the model starts with "message:", removed
  here); the model picks. SmolLM2-135M picks the call nearly always, needed or
  not (`make bench` measures both rates). Once the last message is a tool
  result, the reply is a sentence of text (not a call imitated in text), so the
  standard round trip ends;
- "none": the tools are left out and the model answers in text.

`parallel_tool_calls=false` allows one call per reply; otherwise up to
MAX_PARALLEL_CALLS. The reply is then turned back into OpenAI's `tool_calls`.
"""

from __future__ import annotations

import json
import re
import secrets

from .. import catalog
from .adapt import schema_grammar

CALL_OPEN, CALL_CLOSE = "<tool_call>", "</tool_call>"
MAX_PARALLEL_CALLS = 3

_INSTRUCTIONS = (
    "You have access to the following tools:\n<tools>{tools}</tools>\n\n"
    "If a tool can help answer the question, call it by replying "
    '<tool_call>[{{"name": ..., "arguments": {{...}}}}]</tool_call>. '
    "Otherwise reply with message: followed by your answer."
)
TEXT_MARK = "message:"


def uses_tools(body: dict) -> bool:
    return bool(body.get("tools")) and body.get("tool_choice", "auto") != "none"


def history_as_text(messages: list[dict]) -> None:
    """Earlier tool calls and tool results, rewritten in place as text the chat template can show."""
    for message in messages:
        calls = message.pop("tool_calls", None)
        if message.get("role") == "assistant" and calls:
            written = [
                {"name": call["function"]["name"], "arguments": _parsed(call["function"].get("arguments"))}
                for call in calls
            ]
            text = message.get("content") or ""
            message["content"] = (text + "\n" if text else "") + CALL_OPEN + json.dumps(written) + CALL_CLOSE
        if message.get("content") is None:
            message["content"] = ""
        message.pop("refusal", None)


def _parsed(arguments):
    try:
        return json.loads(arguments)
    except (TypeError, ValueError):
        return arguments


def prepare(body: dict) -> dict:
    """Rewrite a request that offers tools: tools into the prompt, a grammar for the reply. Returns the plan."""
    tools = [tool["function"] for tool in body.pop("tools")]
    choice = body.pop("tool_choice", "auto")
    parallel = body.pop("parallel_tool_calls", True)
    if isinstance(choice, dict):
        tools = [tool for tool in tools if tool["name"] == choice["function"]["name"]]
    listed = json.dumps([{k: tool[k] for k in ("name", "description", "parameters") if k in tool} for tool in tools])
    system = _INSTRUCTIONS.format(tools=listed)
    messages = body["messages"]
    if messages and messages[0].get("role") == "system":
        messages[0]["content"] = messages[0]["content"] + "\n\n" + system
    else:
        messages.insert(0, {"role": "system", "content": system})
    body.pop("response_format", None)
    answered = messages[-1].get("role") == "tool"
    if choice == "auto" and answered:  # the calls are answered: reply in text (a tiny model would call again)
        body["grammar"] = ANSWER_GRAMMAR
    else:
        most = 1 if parallel is False else MAX_PARALLEL_CALLS
        body["grammar"] = call_grammar(tools, most=most, text=choice == "auto")
    return {"names": [tool["name"] for tool in tools], "calls": body["grammar"] is not ANSWER_GRAMMAR}


def default_max_tokens(plan: dict | None) -> int:
    """The cap on a reply whose request set none: shorter when the reply may be a tool call.

    The grammar makes arguments valid JSON but cannot bound their length (a string value can
    run on); the cap does, and a call cut short comes back as OpenAI returns one
    (finish_choice: finish_reason "length", the unfinished arguments as they stand).
    """
    if plan is not None and plan.get("calls"):
        return catalog.OFFLINE_DEFAULT_TOOL_CALL_TOKENS
    return catalog.OFFLINE_DEFAULT_MAX_TOKENS


PROSE_GRAMMAR = f'root ::= prose\nprose ::= "{TEXT_MARK}" [^\\x00]*'
# After a tool result: a sentence, not a call written out as text (`<tool_call>[...`, `[{"name"...`),
# which SmolLM2-135M writes otherwise, imitating the call above it in the prompt.
# Its first character may be any a reply starts with ("$799", a quote, "**"), but not a space,
# a tag or a bracket: those begin the imitated call.
ANSWER_GRAMMAR = f'root ::= "{TEXT_MARK}" " " [^<\\[{{\\x00-\\x20] [^<\\[{{\\x00]*'


def call_grammar(tools: list[dict], most: int, text: bool) -> str:
    """A llama.cpp grammar for `<tool_call>[...]</tool_call>` with valid calls of `tools` (or, if `text`, prose)."""
    call = {
        "anyOf": [
            {
                "type": "object",
                "properties": {
                    "name": {"const": tool["name"]},
                    "arguments": tool.get("parameters") or {"type": "object", "properties": {}},
                },
                "required": ["name", "arguments"],
            }
            for tool in tools
        ]
    }
    calls = schema_grammar({"type": "array", "items": call, "minItems": 1, "maxItems": most})
    if calls is None:  # a parameter schema the converter cannot read: any JSON arguments
        loose = {"type": "object", "properties": {"name": {"enum": [t["name"] for t in tools]}, "arguments": {}}}
        calls = schema_grammar({"type": "array", "items": loose, "minItems": 1, "maxItems": most})
    calls = calls.replace("root ::=", "calls ::=", 1)
    root = f'root ::= "{CALL_OPEN}" calls "{CALL_CLOSE}"'
    if text:
        return root + " | prose\n" + PROSE_GRAMMAR.split("\n", 1)[1] + "\n" + calls
    return root + "\n" + calls


def finish_choice(choice: dict) -> dict:
    """A reply written under the tool grammar, turned into OpenAI's message (tool_calls, or text)."""
    message = choice["message"]
    text = (message.get("content") or "").strip()
    if text.startswith(TEXT_MARK):
        message["content"] = text[len(TEXT_MARK) :].strip()
        return choice
    if not text.startswith(CALL_OPEN):
        return choice
    written, unfinished = _split_calls(text[len(CALL_OPEN) :].removesuffix(CALL_CLOSE))
    calls = [(call["name"], json.dumps(call["arguments"])) for call in written]
    if unfinished is not None:  # cut short by max_tokens inside a call: OpenAI returns it as it stands
        calls.append(unfinished)
    if not calls and choice.get("finish_reason") != "length":
        return choice  # not a call after all: the text stays
    message["content"] = None
    if calls:
        message["tool_calls"] = [
            {"id": f"call_{secrets.token_urlsafe(18)}", "type": "function", "function": {"name": n, "arguments": a}}
            for n, a in calls
        ]
    choice["finish_reason"] = "tool_calls" if choice.get("finish_reason") == "stop" else choice.get("finish_reason")
    return choice


_UNFINISHED_CALL = re.compile(r'\{\s*"name"\s*:\s*"((?:[^"\\]|\\.)*)"\s*(?:,\s*"arguments"\s*:\s*(.*))?', re.DOTALL)


def _split_calls(text: str) -> tuple[list[dict], tuple[str, str] | None]:
    """The complete calls in `[call, call, ...]`, and (name, arguments so far) of one cut short after them.

    A call cut off before its name was whole is left out: OpenAI sends the name in one piece.
    """
    try:
        return json.loads(text), None
    except ValueError:
        pass
    decoder, calls, at = json.JSONDecoder(), [], text.find("[") + 1
    while at:
        while at < len(text) and text[at] in " ,\n":
            at += 1
        try:
            call, at = decoder.raw_decode(text, at)
        except ValueError:
            break
        calls.append(call)
    match = _UNFINISHED_CALL.match(text, at) if at else None
    if match is None:
        return calls, None
    return calls, (json.loads(f'"{match.group(1)}"'), (match.group(2) or "").rstrip())
