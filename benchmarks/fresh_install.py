"""Time `make lab` on a fresh clone with an empty pip cache (`make bench-install`).

Clones this repository's committed HEAD into a temporary folder, runs `make lab` there
with PIP_CACHE_DIR pointing at a new, empty folder (the machine's own cache is left
alone), and measures from the start of `make lab`:

- until JupyterLab answers (GET /api), and
- until the offline model, built in the background, is ready (or failed).

The figures go to benchmarks/fresh_install.json and into BENCHMARKS.md's install rows
(benchmarks/bench.py reads the same file). Slow: it compiles llama.cpp.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "fresh_install.json"
GIVE_UP_SECONDS = 3600


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def measure() -> dict:
    work = Path(tempfile.mkdtemp(prefix="fresh-install-"))
    clone, cache = work / "course", work / "pip-cache"
    cache.mkdir()
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True).stdout
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PIP_NO_CACHE", "CHAT_TUTORIAL_"))}
    env.update(
        PIP_CACHE_DIR=str(cache),
        CHAT_TUTORIAL_LOCAL_PORT=str(free_port()),
        LAB_ARGS=f"--no-browser --port={port} --ServerApp.token= --ServerApp.password=",
    )
    log = open(work / "make-lab.log", "wb")
    started = time.monotonic()
    make = subprocess.Popen(
        ["make", "lab"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    lab_seconds = model_seconds = None
    status = "unknown"
    loads = []  # the 1-minute load average, sampled: the machine may be shared
    state_file = clone / ".cache" / "offline_model" / "build.json"
    try:
        while time.monotonic() - started < GIVE_UP_SECONDS:
            if make.poll() is not None:
                raise RuntimeError(f"make lab exited ({make.returncode}); see {work / 'make-lab.log'}")
            now = time.monotonic() - started
            if lab_seconds is None and answers(f"http://127.0.0.1:{port}/api"):
                lab_seconds = now
                print(f"JupyterLab answers after {lab_seconds:.0f} s", flush=True)
            try:
                status = json.loads(state_file.read_text()).get("status", "unknown")
            except (OSError, ValueError):
                status = "not started"
            if status in ("ready", "failed") and model_seconds is None:
                model_seconds = now
                print(f"offline model {status} after {model_seconds:.0f} s", flush=True)
            if lab_seconds is not None and model_seconds is not None:
                break
            if hasattr(os, "getloadavg"):
                loads.append(os.getloadavg()[0])
            time.sleep(0.5)
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=30)
        subprocess.run(
            [str(clone / ".venv" / "bin" / "python"), "-m", "helpers.local_server", "stop"],
            cwd=clone,
            env=env,
            capture_output=True,
        )
        log.close()
    base_seconds = (clone / ".venv" / ".install-seconds").read_text().strip()
    shutil.rmtree(work, ignore_errors=True)
    return {
        "date": datetime.date.today().isoformat(),
        "commit": commit.strip(),
        "cores": os.cpu_count(),
        "lab_seconds": round(lab_seconds or 0),
        "requirements_seconds": int(base_seconds),
        "model_seconds": round(model_seconds or 0),
        "model_status": status,
        "mean_load": round(sum(loads) / len(loads), 1) if loads else None,
    }


def rows(results: dict) -> list[tuple[str, str]]:
    """BENCHMARKS.md rows for these figures."""
    load = f", mean load average {results['mean_load']}" if results.get("mean_load") else ""
    when = f"(measured {results['date']}, commit {results['commit']}, {results['cores']} cores{load})"
    return [
        (
            "Fresh clone, empty pip cache: `make lab` to JupyterLab answering; goal <= 120 s",
            f"{results['lab_seconds']} s, of which pip install -r requirements.txt {results['requirements_seconds']} s "
            f"{when}",
        ),
        (
            "Fresh clone, empty pip cache: `make lab` to the offline model ready (built in the background)",
            f"{results['model_seconds']} s, {results['model_status']} {when}",
        ),
    ]


# Rows an earlier bench.py wrote whose meaning changed with the two install layers.
RETIRED_ROWS = ["First install of requirements.txt (last install)"]


def install_test_row() -> tuple[str, str]:
    """How long tests/test_install.py took in its last run (it records that itself)."""
    path = ROOT / ".cache" / "install-test-seconds"
    if not path.is_file():
        return ("tests/test_install.py: fresh venv, compilers hidden, pip cache off (last run)", "not recorded yet")
    when = datetime.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    figure = f"{int(path.read_text().strip())} s (recorded {when})"
    return ("tests/test_install.py: fresh venv, compilers hidden, pip cache off (last run)", figure)


def update_benchmarks(new: list[tuple[str, str]]) -> None:
    """Put these rows into BENCHMARKS.md's table, replacing earlier ones of the same name."""
    path = ROOT / "BENCHMARKS.md"
    lines = path.read_text().splitlines()
    labels = {f"| {label} |" for label, _ in new} | {f"| {label} |" for label in RETIRED_ROWS}
    lines = [line for line in lines if not any(line.startswith(label) for label in labels)]
    last_row = max(i for i, line in enumerate(lines) if line.startswith("| "))
    lines[last_row + 1 : last_row + 1] = [f"| {label} | {figure} |" for label, figure in new]
    if NOTE[0] not in lines:
        lines += NOTE
    path.write_text("\n".join(lines) + "\n")


NOTE = [
    "The fresh-clone rows come from `make bench-install` (benchmarks/fresh_install.py): a new clone,",
    "`make lab` with PIP_CACHE_DIR pointing at an empty folder, packages from this machine's configured",
    "package indexes. The offline model compiles in the background, sharing the cores with JupyterLab",
    "and with whatever else runs, so its figure depends on the machine's load.",
]


def main() -> None:
    if sys.argv[1:] == ["--rows-only"]:  # rewrite BENCHMARKS.md's rows from the last measurement
        results = json.loads(RESULTS.read_text())
    else:
        results = measure()
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    update_benchmarks([install_test_row(), *rows(results)])
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    sys.exit(main())
