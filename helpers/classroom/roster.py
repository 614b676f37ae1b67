"""The class's keys: one per learner, one for the instructor, revocable while the server runs.

Keys are secrets. They are shown in full twice only: printed once when the class starts,
and written to the keys file the instructor keeps (mode 0600, readable by its owner only).
Everywhere else (logs, the usage page, the CLI) a key is masked as its prefix and last 4
characters, and a learner is named by their label (`learner-07`).
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

KEY_PREFIX = "class-"  # learner and instructor keys; never an OpenAI-shaped `sk-` key
INSTRUCTOR = "instructor"
KEYS_FILE_MODE = 0o600


def mask(key: str | None) -> str:
    """`class-...AbCd`: the prefix and last 4 characters, never more."""
    if not key:
        return "(none)"
    prefix = KEY_PREFIX if key.startswith(KEY_PREFIX) else ""
    if len(key) < len(prefix) + 16:  # too short to show any of it safely
        return f"{prefix}..."
    return f"{prefix}...{key[-4:]}"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


def learner_name(number: int, count: int) -> str:
    return f"learner-{number:0{max(2, len(str(count)))}d}"


@dataclass
class Holder:
    """One key and whose it is."""

    name: str
    key: str
    revoked: bool = False

    @property
    def masked(self) -> str:
        return mask(self.key)


class Roster:
    """Who may use the class server: learners' keys and the instructor's, looked up in constant time per key."""

    def __init__(self, learners: list[Holder], instructor: Holder, path: Path | None = None):
        self.learners = {holder.name: holder for holder in learners}
        self.instructor = instructor
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def issue(cls, count: int, path: Path | None = None) -> Roster:
        """`count` new learner keys and a new instructor key; written to `path` (0600) if given."""
        learners = [Holder(learner_name(n, count), new_key()) for n in range(1, count + 1)]
        roster = cls(learners, Holder(INSTRUCTOR, new_key()), path)
        if path is not None:
            roster.save()
        return roster

    @classmethod
    def load(cls, path: Path) -> Roster:
        data = json.loads(Path(path).read_text())
        learners = [Holder(**entry) for entry in data["learners"]]
        return cls(learners, Holder(**data["instructor"]), Path(path))

    def save(self) -> None:
        """Write every key to the keys file, readable by its owner only (created 0600, never wider)."""
        if self.path is None:
            return
        data = {"instructor": asdict(self.instructor), "learners": [asdict(h) for h in self.learners.values()]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.unlink(missing_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEYS_FILE_MODE)
        with os.fdopen(descriptor, "w") as file:
            json.dump(data, file, indent=2)
        os.chmod(temporary, KEYS_FILE_MODE)  # in case a umask or platform widened it
        os.replace(temporary, self.path)

    def holder_of(self, key: str) -> Holder | None:
        """Whose key this is (revoked or not), or None. Compares every key, so timing tells nothing."""
        found = None
        for holder in [self.instructor, *self.learners.values()]:
            if hmac.compare_digest(holder.key.encode(), key.encode()):
                found = holder
        return found

    def find(self, name_or_key: str) -> Holder | None:
        """A learner by label (`learner-07`) or by key."""
        if name_or_key in self.learners:
            return self.learners[name_or_key]
        holder = self.holder_of(name_or_key)
        return holder if holder is not None and holder is not self.instructor else None

    def revoke(self, name_or_key: str) -> Holder | None:
        """Revoke a learner's key (the instructor's cannot be); saved to the keys file at once."""
        with self._lock:
            holder = self.find(name_or_key)
            if holder is None:
                return None
            holder.revoked = True
            self.save()
            return holder
