"""Usage per key, for the instructor: requests, tokens in and out, errors, last seen.

Shown as JSON, CSV and a small HTML page under /class/ on the class server, and by
`python -m helpers.classroom usage`. Keys appear masked only (prefix and last 4).
"""

from __future__ import annotations

import csv
import html
import io
import threading
import time
from dataclasses import asdict, dataclass

COLUMNS = ("name", "key", "revoked", "requests", "input_tokens", "output_tokens", "errors", "rate_limited", "last_seen")


@dataclass
class KeyUsage:
    name: str
    key: str  # masked
    revoked: bool = False
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    errors: int = 0  # answers with HTTP status 400 or more, 429s included
    rate_limited: int = 0  # 429s from the class's own limits
    last_seen: str = ""  # ISO time, UTC, of the last request


class UsageBook:
    """Counts per key name; one row per learner from the start, so a learner who never called shows zeros."""

    def __init__(self, roster):
        self.roster = roster
        self._rows: dict[str, KeyUsage] = {}
        self._lock = threading.Lock()
        for holder in [*roster.learners.values(), roster.instructor]:
            self._rows[holder.name] = KeyUsage(holder.name, holder.masked)

    def record(
        self, name: str, *, status: int, input_tokens: int = 0, output_tokens: int = 0, rate_limited: bool = False
    ):
        with self._lock:
            row = self._rows[name]
            row.requests += 1
            row.input_tokens += input_tokens
            row.output_tokens += output_tokens
            row.errors += status >= 400
            row.rate_limited += rate_limited
            row.last_seen = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def rows(self) -> list[dict]:
        with self._lock:
            rows = []
            for name, row in self._rows.items():
                holder = self.roster.instructor if name == self.roster.instructor.name else self.roster.learners[name]
                row.revoked = holder.revoked
                rows.append(asdict(row))
            return rows

    def as_json(self) -> dict:
        return {"object": "list", "data": self.rows()}

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows())
        return out.getvalue()

    def as_html(self) -> str:
        head = "".join(f"<th>{html.escape(column.replace('_', ' '))}</th>" for column in COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(row[column]))}</td>" for column in COLUMNS) + "</tr>"
            for row in self.rows()
        )
        return (
            "<!doctype html><html><head><meta charset='utf-8'><meta http-equiv='refresh' content='10'>"
            "<title>Class usage</title><style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:right}"
            "td:first-child,th:first-child{text-align:left}</style></head><body><h1>Class usage</h1>"
            "<p>Refreshes every 10 s. Also as <a href='/class/usage.json'>JSON</a> and "
            "<a href='/class/usage.csv'>CSV</a>.</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
        )
