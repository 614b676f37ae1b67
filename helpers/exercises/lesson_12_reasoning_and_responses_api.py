"""Checkers for lesson 12: reasoning models and the Responses API."""

from __future__ import annotations

from .practice import recording_client
from .registry import exercise

# Not the lesson's system prompt, so that an answer that types the lesson's text in is caught.
_SYSTEM_12 = "You are a patient science teacher. Answer in one short sentence."
_QUESTION_12 = "What colour is the sky on a clear day?"
_FOLLOW_UP_12 = "And at sunset?"
_LIMIT_12 = 60  # max_output_tokens the exercise asks for: short replies keep the check fast


def _posts(exchanges, path: str):
    return [e for e in exchanges if e.method == "POST" and e.path.endswith(path)]


def _output_text(reply: dict) -> str:
    """What the SDK's `response.output_text` gives: the text of every output_text part, joined."""
    return "".join(
        part.get("text", "")
        for item in reply.get("output", [])
        if item.get("type") == "message"
        for part in item.get("content", [])
        if part.get("type") == "output_text"
    )


def _text_of(content) -> str | None:
    """A message's text: the string itself, or its text parts joined (as an output message carries it)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return None


@exercise("12.1", "Port a chat completion to the Responses API", sends_requests=True)
def _check_port(answer) -> str | None:
    client, exchanges, server = recording_client()
    got = answer(client, server.model, _SYSTEM_12, _QUESTION_12)
    chats, sent = _posts(exchanges, "/chat/completions"), _posts(exchanges, "/responses")
    if chats and not sent:
        return "you sent a request to /chat/completions: port it to client.responses.create(...)."
    if len(sent) != 1 or chats:
        return f"send exactly one request, to /responses (you sent {len(chats) + len(sent)})."
    body = sent[0].sent
    if body.get("model") != server.model:
        return "send the model you were given."
    if "messages" in body or "max_completion_tokens" in body:
        return "the Responses API has no `messages` or `max_completion_tokens`: use `input` and `max_output_tokens`."
    if body.get("instructions") != _SYSTEM_12:
        return "put the system prompt you were given (`system`) in `instructions`, word for word."
    if body.get("input") != _QUESTION_12:
        return "send the question as `input`, a plain string."
    if body.get("max_output_tokens") != _LIMIT_12:
        return f"cap the reply with max_output_tokens={_LIMIT_12}, as the chat call capped max_completion_tokens."
    if sent[0].status != 200:
        return f"the server answered {sent[0].status}: {bytes(sent[0].body)[:200]!r}."
    if got != (text := _output_text(sent[0].reply())):
        return f"return the reply's text (response.output_text), {text[:40]!r}..., not {str(got)[:40]!r}."
    return None


@exercise("12.2", "Carry a conversation without server-side state", sends_requests=True)
def _check_follow_up(answer) -> str | None:
    client, exchanges, server = recording_client()
    first = client.responses.create(model=server.model, input=_QUESTION_12, max_output_tokens=_LIMIT_12)
    got = answer(client, server.model, _QUESTION_12, first, _FOLLOW_UP_12)
    sent = _posts(exchanges, "/responses")[1:]  # the first was the checker's
    if len(sent) != 1:
        return f"send exactly one request for the follow-up (you sent {len(sent)})."
    body = sent[0].sent
    if body.get("previous_response_id"):
        return "do not rely on stored state (previous_response_id): send the whole conversation in `input`."
    if body.get("store") is not False:
        return (
            "say store=False: the Responses API stores every response unless told not to (store defaults to "
            "true), and a conversation you carry yourself needs nothing stored."
        )
    history = body.get("input")
    if not isinstance(history, list) or len(history) != 3:
        return "send `input` as a list of three messages: the first question, the answer, the follow-up."
    roles = [item.get("role") for item in history]
    if roles != ["user", "assistant", "user"]:
        return f"the three messages should have the roles user, assistant, user; yours had {roles}."
    contents = [item.get("content") for item in history]
    if contents[0] != _QUESTION_12 or contents[2] != _FOLLOW_UP_12:
        return "the first message is the first question and the last is the follow-up, word for word."
    if _text_of(contents[1]) != first.output_text:
        return "the assistant message carries the first answer's text: first_response.output_text."
    if getattr(got, "object", None) != "response" or getattr(got, "id", None) != sent[0].reply().get("id"):
        return "return the new Response object that client.responses.create gave back."
    return None
