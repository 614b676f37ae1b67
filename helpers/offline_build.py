"""Installing the offline model, which compiles llama.cpp, in the background if need be.

The course installs in two layers. `requirements.txt` (the lessons, JupyterLab, the
tests) needs no compiler. `requirements-offline.txt` (llama-cpp-python and the
SmolLM2 weights) compiles llama.cpp: minutes on a fresh machine, and impossible
without a C/C++ compiler. `make lab` therefore opens the course first and builds
the offline model in the background:

    python -m helpers.offline_build start     # build in the background, return at once
    python -m helpers.offline_build install   # build now (or wait for the running build)
    python -m helpers.offline_build status    # building (how far), ready, failed (why)

Its state and log live in `.cache/offline_model/` (`build.json`, `build.log`).
A lesson that needs the offline model while it builds waits, printing how far the
build has got (`wait_for_offline_model`); a failed build is one line naming its
cause and the three ways on: a compiler, Ollama, or an API key.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import catalog
from .environment import in_colab, repo_root

BUILD_DIR_VAR = "CHAT_TUTORIAL_BUILD_DIR"  # another folder for build.json and build.log (tests)
REQUIREMENTS = "requirements-offline.txt"
# Measured on a 2-core machine with an empty pip cache (BENCHMARKS.md); after the first
# build, the last build's own duration is expected instead.
FIRST_BUILD_SECONDS = 300
PROGRESS_EVERY_SECONDS = 15.0

# How llama.cpp is compiled, unless CMAKE_ARGS says otherwise: only the library (not
# llama.cpp's own tools), and on x86 for AVX2 rather than -march=native, since a native
# build on CPUs with AMX crashed on the first prompt here (llama-cpp-python 0.3.36).
LIBRARY_ONLY = (
    "-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF "
    "-DLLAMA_BUILD_SERVER=OFF"
)
X86_FLAGS = "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"


def cmake_args() -> str:
    if os.environ.get("CMAKE_ARGS"):
        return os.environ["CMAKE_ARGS"]
    x86 = platform.machine().lower() in ("x86_64", "amd64")
    return f"{X86_FLAGS} {LIBRARY_ONLY}" if x86 else LIBRARY_ONLY


COMPILERS = {
    "win32": "Visual Studio Build Tools with 'Desktop development with C++' (https://visualstudio.microsoft.com/visual-cpp-build-tools/)",
    "darwin": "Apple's command-line tools: xcode-select --install",
    "linux": "gcc, g++ and cmake (Debian/Ubuntu: sudo apt install build-essential cmake)",
}


class OfflineModelUnavailable(RuntimeError):
    """The offline model is not installed (missing, still missing after a failed build)."""


def build_dir() -> Path:
    path = Path(os.environ.get(BUILD_DIR_VAR) or repo_root() / ".cache" / "offline_model")
    path.mkdir(parents=True, exist_ok=True)
    return path


def state_file() -> Path:
    return build_dir() / "build.json"


def log_file() -> Path:
    return build_dir() / "build.log"


def offline_model_installed() -> bool:
    """Whether this Python has llama-cpp-python and the model package (without importing them)."""
    try:
        importlib.metadata.version(catalog.OFFLINE_MODEL_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return False
    return importlib.util.find_spec("llama_cpp") is not None


def compiler_hint(platform: str | None = None) -> str:
    platform = platform or sys.platform
    key = "win32" if platform.startswith("win") else "darwin" if platform == "darwin" else "linux"
    return COMPILERS[key]


def ways_on(platform: str | None = None) -> str:
    """The three ways to run the lessons without a built offline model, in one sentence."""
    how = "re-run the set-up cell" if in_colab() else f"run `make lab` again (or pip install -r {REQUIREMENTS})"
    return (
        f"Ways on: install a C/C++ compiler ({compiler_hint(platform)}), then {how}; "
        f"or start Ollama (https://ollama.com: `ollama serve`, `ollama pull {catalog.OLLAMA.model}`); "
        "or add an API key to .env (see .env.example)."
    )


# --- The build's state ---------------------------------------------------------------


@dataclass(frozen=True)
class BuildState:
    """Where the offline model's build stands: "ready", "building", "failed" or "missing"."""

    status: str
    elapsed: float = 0.0  # seconds since the build started (its duration, once finished)
    expected: float = FIRST_BUILD_SECONDS
    percent: int | None = None  # from the compiler's progress lines, when the log has them
    cause: str = ""  # why it failed

    def describe(self) -> str:
        if self.status == "ready":
            return "the offline model is installed"
        if self.status == "building":
            done = f", {self.percent} % compiled" if self.percent is not None else ""
            if self.elapsed <= self.expected:
                far = f"{_duration(self.elapsed)} of about {_duration(self.expected)}"
            else:
                far = f"{_duration(self.elapsed)} so far (usually about {_duration(self.expected)})"
            return f"the offline model is being built: {far}{done} (log: {_shown(log_file())})"
        if self.status == "failed":
            return f"the offline model could not be built: {self.cause}. {ways_on()}"
        return f"the offline model is not installed (it needs {REQUIREMENTS}). {ways_on()}"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(repo_root()))
    except ValueError:
        return str(path)


def _read_state() -> dict:
    try:
        return json.loads(state_file().read_text())
    except (OSError, ValueError):
        return {}


def _write_state(**fields) -> None:
    path = state_file()
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(fields))
    os.replace(temporary, path)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        import psutil

        return psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except Exception:  # noqa: BLE001 - psutil missing or the process just ended
        return False


# pip --verbose indents the build's own lines by two spaces.
_PERCENT = re.compile(r"^\s*\[\s*(\d{1,3})%\]", re.MULTILINE)  # make: "[ 45%] Building ..."
_STEPS = re.compile(r"^\s*\[(\d+)/(\d+)\]", re.MULTILINE)  # ninja: "[12/150] Building ..."


def _progress(log_text: str) -> int | None:
    steps = _STEPS.findall(log_text)
    if steps:
        done, total = map(int, steps[-1])
        return min(100, done * 100 // max(total, 1))
    percents = _PERCENT.findall(log_text)
    return min(100, int(percents[-1])) if percents else None


def failure_cause(log_text: str) -> str:
    """The reason a build failed, read from pip's log, in a few words."""
    text = log_text.lower()
    if re.search(r"cmake_(c|cxx)_compiler|no cmake_c|compiler.*(not found|was not found)|not a full path", text) or (
        "is not able to compile" in text
    ):
        return "no working C/C++ compiler was found"
    if re.search(r"cmake: (command )?not found|no such file or directory: '?cmake|could not find cmake", text):
        return "CMake was not found"
    if "no matching distribution" in text or "could not find a version" in text:
        return "pip could not download a package (no network, or no such version)"
    if re.search(r"connection (error|refused)|newconnectionerror|temporary failure in name resolution", text):
        return "pip could not reach the package index (no network?)"
    if "no space left" in text:
        return "the disk is full"
    if "failed building wheel for llama-cpp-python" in text or "failed to build" in text:
        return f"compiling llama.cpp failed (details in {_shown(log_file())})"
    return f"pip failed (details in {_shown(log_file())})"


def build_state() -> BuildState:
    """Where the build stands now, from build.json, its log, and what this Python has installed."""
    state = _read_state()
    now = time.time()
    expected = float(state.get("expected") or FIRST_BUILD_SECONDS)
    if state.get("status") == "building":
        if _alive(state.get("pid")):
            try:
                percent = _progress(log_file().read_text(errors="replace"))
            except OSError:
                percent = None
            return BuildState("building", now - float(state.get("started", now)), expected, percent)
        if not offline_model_installed():
            return BuildState("failed", cause="the build stopped before it finished (interrupted?)")
    if offline_model_installed():
        return BuildState("ready", float(state.get("seconds") or 0.0), expected)
    if state.get("status") == "failed":
        return BuildState("failed", float(state.get("seconds") or 0.0), expected, cause=state.get("cause", ""))
    return BuildState("missing", expected=expected)


# --- Building --------------------------------------------------------------------------


def _pip_command() -> list[str]:
    return [sys.executable, "-m", "pip", "install", "--verbose", "-r", str(repo_root() / REQUIREMENTS)]


def build(stamp: Path | None = None, echo: bool = False) -> int:
    """Install the offline layer now, recording state and log; touch `stamp` on success."""
    previous = _read_state()
    # A build that compiles takes minutes; one from pip's cached wheel, seconds. Expect the longer.
    expected = max(float(previous.get("last_seconds") or 0.0), FIRST_BUILD_SECONDS)
    started = time.time()
    _write_state(status="building", pid=os.getpid(), started=started, expected=expected)
    env = dict(os.environ, PIP_PROGRESS_BAR="off", CMAKE_ARGS=cmake_args())
    with open(log_file(), "w", encoding="utf-8", errors="replace") as log:
        log.write(f"$ CMAKE_ARGS='{env['CMAKE_ARGS']}' {' '.join(_pip_command())}\n")
        log.flush()
        process = subprocess.Popen(
            _pip_command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
        for raw in process.stdout:
            line = raw.decode("utf-8", errors="replace")
            log.write(line)
            log.flush()
            if echo and not line.startswith("  "):  # pip's own lines, not the compiler's
                print(line, end="", flush=True)
        code = process.wait()
    seconds = time.time() - started
    if code == 0:
        _write_state(status="ready", seconds=seconds, last_seconds=seconds, expected=expected)
        if stamp is not None:
            stamp.touch()
        return 0
    cause = failure_cause(log_file().read_text(errors="replace"))
    _write_state(
        status="failed", seconds=seconds, cause=cause, expected=expected, last_seconds=previous.get("last_seconds")
    )
    return code or 1


def start_build(stamp: Path | None = None) -> BuildState:
    """Start the build in the background unless the model is installed or a build runs; return the state."""
    state = build_state()
    if state.status in ("ready", "building"):
        return state
    command = [sys.executable, "-m", "helpers.offline_build", "run"]
    if stamp is not None:
        command += ["--stamp", str(Path(stamp).resolve())]
    detach = (
        {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS}
        if os.name == "nt"
        else {"start_new_session": True}
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo_root()), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        command,
        cwd=repo_root(),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **detach,
    )
    # Say "building" at once, so that a lesson started a moment later waits for this build.
    _write_state(
        status="building", pid=process.pid, started=time.time(), expected=float(state.expected or FIRST_BUILD_SECONDS)
    )
    return build_state()


def wait_for_offline_model(out=None, every: float = PROGRESS_EVERY_SECONDS) -> None:
    """Return once the offline model is installed; print progress while it builds.

    Raises OfflineModelUnavailable, with the cause and the ways on, when the build
    failed or the model is not installed and nothing builds it. (In Colab, a missing
    model is built then and there.)
    """
    out = out or sys.stdout
    last = None
    while True:
        state = build_state()
        if state.status == "ready":
            if last is not None:
                print(f"The offline model is ready (built in {_duration(state.elapsed)}).", file=out, flush=True)
            return
        if state.status == "missing" and in_colab() and last is None:
            # Colab's set-up cell skipped it (a key was set), yet this cell needs it: build it now.
            state = start_build()
        if state.status != "building":
            raise OfflineModelUnavailable(state.describe()[0].upper() + state.describe()[1:])
        if last is None or time.monotonic() - last >= every:
            text = state.describe()
            print(f"Waiting: {text}.", file=out, flush=True)
            last = time.monotonic()
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.offline_build", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "install", "status", "run"])
    parser.add_argument("--stamp", type=Path, default=None, help="a file to touch once the model is installed")
    args = parser.parse_args(argv)
    if args.command == "run":  # the background build itself
        return build(args.stamp)
    if args.command == "start":
        state = start_build(args.stamp)
        if state.status == "building":
            print(f"Building the offline model in the background; log: {_shown(log_file())}")
        return 0
    if args.command == "install":
        state = build_state()
        if state.status == "building":
            wait_for_offline_model()
            if args.stamp is not None:
                args.stamp.touch()
            return 0
        if state.status == "ready" and args.stamp is None:
            return 0
        print(f"Installing the offline model ({REQUIREMENTS}); log: {_shown(log_file())}", flush=True)
        code = build(args.stamp, echo=True)
        if code:
            print(f"error: {build_state().describe()}", file=sys.stderr)
        return code
    state = build_state()
    print(state.describe())
    return 0 if state.status in ("ready", "building") else 1


if __name__ == "__main__":
    sys.exit(main())
