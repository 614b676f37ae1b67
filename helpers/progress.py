"""One line of progress that changes in place, wherever the code runs.

In a notebook (Jupyter, Colab) it is one output, updated (`display(..., display_id=True)`);
in a terminal, one line rewritten with a carriage return; in a log or CI, where neither
works, a plain line now and then: when the stage changes, or every `every` seconds.
"""

from __future__ import annotations

import html
import shutil
import sys
import time

BAR_WIDTH = 20
PLAIN_EVERY_SECONDS = 60.0
REFRESH_SECONDS = 1.0  # how often a notebook display or terminal line is redrawn, at most


def in_notebook() -> bool:
    """Whether this code runs in a Jupyter kernel (JupyterLab, Colab), which shows rich outputs."""
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    return getattr(get_ipython(), "kernel", None) is not None


def bar(percent: int) -> str:
    """A text bar: [#######-------------] 35 %"""
    filled = BAR_WIDTH * max(0, min(100, percent)) // 100
    return f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {percent:3d} %"


class ProgressLine:
    """A line of progress: `update` it as often as you like, `done` once at the end."""

    def __init__(self, out=None, every: float = PLAIN_EVERY_SECONDS):
        stream = out or sys.stdout
        if out is None and in_notebook():
            self.mode = "notebook"
        elif getattr(stream, "isatty", lambda: False)():
            self.mode = "terminal"
        else:
            self.mode = "lines"
        self.out = stream
        self.every = every
        self.shown = False  # whether anything has been shown yet
        self._handle = None
        self._drawn = ""  # the terminal line as last drawn
        self._last_time = float("-inf")
        self._last_stage = None
        self._open = False  # a terminal line without its newline yet

    def update(self, text: str, percent: int | None = None, stage: str | None = None) -> None:
        """Show `text` (with a bar when `percent` is known). In a log, only when `stage` changes or now and then."""
        now = time.monotonic()
        if self.mode == "lines":
            if self.shown and stage == self._last_stage and now - self._last_time < self.every:
                return
            print(_plain(text, percent), file=self.out, flush=True)
        elif self.shown and now - self._last_time < REFRESH_SECONDS and stage == self._last_stage:
            return
        else:
            self._draw(text, percent)
        self.shown, self._last_time, self._last_stage = True, now, stage

    def done(self, text: str, percent: int | None = None) -> None:
        """Show the last state of the line, and end it."""
        if self.mode == "lines":
            print(_plain(text, percent), file=self.out, flush=True)
        else:
            self._draw(text, percent)
        self.shown = True
        self.close()

    def close(self) -> None:
        """End a terminal line (before other output or an error), leaving its text as it is."""
        if self._open:
            print(file=self.out, flush=True)
            self._open = False

    def _draw(self, text: str, percent: int | None) -> None:
        line = _plain(text, percent)
        if self.mode == "notebook":
            from IPython.display import display

            bundle = {"text/plain": line, "text/html": _html(text, percent)}
            if self._handle is None:
                self._handle = display(bundle, raw=True, display_id=True)
            else:
                self._handle.update(bundle, raw=True)
            return
        width = shutil.get_terminal_size((100, 20)).columns - 1
        if len(line) > width:
            line = line[: width - 1] + "…"
        self.out.write("\r" + line.ljust(len(self._drawn)))
        self.out.flush()
        self._drawn, self._open = line, True


def _plain(text: str, percent: int | None) -> str:
    return f"{bar(percent)} {text}" if percent is not None else text


def _html(text: str, percent: int | None) -> str:
    meter = (
        f'<progress value="{percent}" max="100" style="width: 16em; vertical-align: middle"></progress> {percent} % '
        if percent is not None
        else ""
    )
    return f"<div>{meter}{html.escape(text)}</div>"
