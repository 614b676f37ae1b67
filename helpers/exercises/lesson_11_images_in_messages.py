"""Checkers for lesson 11: images in a chat message."""

from __future__ import annotations

import base64
import io

from .. import catalog
from ..environment import repo_root
from .practice import completions, recording_client
from .registry import exercise

COURSE_IMAGE = "notebooks/images/shapes.png"
IMAGE_URL = catalog.course_file_url(COURSE_IMAGE)
_QUESTION = "What shapes are in this picture? Answer in one sentence."
_REPLY_TOKENS = 24  # the checker keeps the text-only reply short, so that a check takes seconds


def _a_second_png() -> bytes:
    """A different small PNG, drawn here, so that an answer cannot hard-code the course's picture."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 4), (0, 128, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


@exercise("11.1", "An image part from a PNG file's bytes")
def _check_image_part(answer) -> str | None:
    course, second = (repo_root() / COURSE_IMAGE).read_bytes(), _a_second_png()
    for png, detail in [(course, "low"), (second, "high"), (second, "original")]:
        part = answer(png, detail)
        if not isinstance(part, dict) or part.get("type") != "image_url":
            return f"return a dict with 'type': 'image_url' (got {str(part)[:60]!r})."
        image = part.get("image_url")
        if not isinstance(image, dict) or not isinstance(image.get("url"), str):
            return "put the picture under 'image_url', as a dict with a 'url': {'image_url': {'url': ...}}."
        url = image["url"]
        prefix = "data:image/png;base64,"
        if not url.startswith(prefix):
            return f"a data URL starts with {prefix!r}, then the base64 text (yours starts {url[:25]!r})."
        try:
            decoded = base64.b64decode(url[len(prefix) :], validate=True)
        except ValueError:
            return "after the prefix comes the file's bytes in base64: base64.b64encode(png).decode()."
        if decoded != png:
            return "the base64 text does not decode to the bytes you were given: encode the whole file, unchanged."
        if image.get("detail") != detail:
            return f"pass `detail` on: 'detail': {detail!r} inside 'image_url' (got {image.get('detail')!r})."
    return None


def _image_urls(message: dict) -> list[str]:
    content = message.get("content")
    parts = content if isinstance(content, list) else []
    images = [p for p in parts if isinstance(p, dict) and p.get("type") == "image_url"]
    return [(p.get("image_url") or {}).get("url") for p in images]


@exercise("11.2", "Ask about a picture, and fall back to text on a text-only model", sends_requests=True)
def _check_fallback(answer) -> str | None:
    import openai

    client, exchanges, server = recording_client(text_only=True)  # a model that reads no images
    capped = client.with_options(max_retries=0)
    got = answer(_ShortReplies(capped), server.model, _QUESTION, IMAGE_URL)
    sent = completions(exchanges)
    if not sent:
        return "send a request: client.chat.completions.create(...)."
    first = sent[0].sent.get("messages") or []
    if not any(IMAGE_URL in _image_urls(message) for message in first):
        return (
            "the first request should carry the picture: a content part "
            "{'type': 'image_url', 'image_url': {'url': image_url}}."
        )
    if sent[0].status != 400:
        return f"the offline model should have refused the picture with a 400, but answered {sent[0].status}."
    if len(sent) != 2:
        return (
            f"you sent {len(sent)} request(s). After the 400 that says the model reads text only, "
            "ask once more with the question alone, as text."
        )
    second = sent[1].sent.get("messages") or []
    if any(_image_urls(message) for message in second):
        return "the second request should hold no image part: the question alone, as text."
    if not any(_QUESTION in str(message.get("content")) for message in second):
        return "the second request should still ask the question you were given."
    if sent[1].status != 200:
        return f"the second request was answered {sent[1].status}; send the question as plain text."
    expected = (sent[1].reply()["choices"][0]["message"]["content"], False)
    if got != expected:
        return f"return (the reply's text, False) when the picture was refused; got {str(got)[:80]!r}."
    # Any other error is not about the picture: it reaches the caller, after one request.
    exchanges.clear()
    try:
        answer(_ShortReplies(capped), "no-such-model", _QUESTION, IMAGE_URL)
    except openai.NotFoundError:
        pass
    except Exception as error:
        return f"with a model that does not exist, let openai.NotFoundError through (not {type(error).__name__})."
    else:
        return "with a model that does not exist, the error should reach the caller: catch only the picture's refusal."
    if len(completions(exchanges)) != 1:
        return (
            f"with a model that does not exist you sent {len(completions(exchanges))} requests: only the 400 "
            "about the image (error.param ends in '.type', 'image_url' in its message) is worth a text-only retry."
        )
    # A 400 that is not about the picture (a parameter out of range) is the caller's bug: it must reach them.
    exchanges.clear()
    try:
        answer(_OversizedReplies(capped), server.model, _QUESTION, IMAGE_URL)
    except openai.BadRequestError as error:
        sent = completions(exchanges)
        other = [i for i, e in enumerate(sent) if e.status == 400 and not _about_the_picture(e)]
        if other and other[0] != len(sent) - 1:
            return (
                f"a 400 about '{error.param}' was followed by another request: it is not the picture's refusal "
                "(its param does not end in '.type'), so raise it at once, without a text-only retry."
            )
    except Exception as error:
        return f"a 400 about a parameter should reach the caller as BadRequestError (not {type(error).__name__})."
    else:
        return (
            "a 400 about a parameter, not about the picture, was hidden: catch BadRequestError, and re-raise it "
            "unless error.param ends in '.type' and its message names image_url."
        )
    return None


def _about_the_picture(exchange) -> bool:
    """Whether a recorded 400 is the text-only model's refusal of an image part."""
    try:
        error = exchange.reply().get("error") or {}
    except ValueError:
        return False
    return str(error.get("param") or "").endswith(".type") and "image_url" in str(error.get("message"))


class _ShortReplies:
    """The learner's client, with every reply capped at a few tokens so that the check takes seconds."""

    def __init__(self, client):
        self._client = client
        self.chat = self
        self.completions = self

    def create(self, **request):
        request["max_completion_tokens"] = min(request.get("max_completion_tokens") or _REPLY_TOKENS, _REPLY_TOKENS)
        request.pop("max_tokens", None)
        return self._client.chat.completions.create(**request)

    def __getattr__(self, name):
        return getattr(self._client, name)


class _OversizedReplies(_ShortReplies):
    """The learner's client asking for more reply tokens than the model holds: a 400 about that parameter."""

    def create(self, **request):
        request["max_completion_tokens"] = 10**9
        request.pop("max_tokens", None)
        return self._client.chat.completions.create(**request)
