"""Installing the offline model, which compiles llama.cpp, in the background if need be.

The course installs in two layers. `requirements.txt` (the lessons, JupyterLab, the
tests) needs no compiler. `requirements-offline.txt` (llama-cpp-python and the
SmolLM2 weights) compiles llama.cpp: minutes on a fresh machine, and impossible
without a C/C++ compiler. `make lab` therefore opens the course first and builds
the offline model in the background:

    python -m helpers.offline_build start     # build in the background, return at once
    python -m helpers.offline_build install   # build now (or wait for the running build)
    python -m helpers.offline_build status    # building (how far), ready, failed (why)

(that command line is in cli.py; `helpers/offline_build.py` is its name in the README and Makefile).

Its state and log live in `.cache/offline_model/` (`build.json`, `build.log`).
A lesson that needs the offline model while it builds waits, showing one line that
changes in place: what the build is doing, how much of llama.cpp is compiled, and an
estimate of the time left from measured builds (`wait_for_offline_model`). A failed
build is one line naming its cause and the three ways on: a compiler, Ollama, or an API key.
"""

from __future__ import annotations

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

from .. import catalog
from ..course_folder import course_files
from ..environment import in_colab, repo_root
from ..progress import ProgressLine
from .state import BUILD, state_dir

REQUIREMENTS = "requirements-offline.txt"
# A fresh build (empty pip cache, llama.cpp compiled) took 932 s on 2 cores: BENCHMARKS.md,
# measured 2026-11-26. After a build here that compiled, its own duration is expected instead,
# and once compiling is under way, this build's own pace.
FIRST_BUILD_SECONDS = 932
FIRST_BUILD_BASIS = "a fresh build took 15 min 32 s on 2 cores when measured for the course"
PROGRESS_EVERY_SECONDS = 60.0  # in a log (not a notebook or terminal): a plain line this often

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
    return state_dir(BUILD)


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
    expected: float = FIRST_BUILD_SECONDS  # how long the whole build is expected to take
    percent: int | None = None  # from the compiler's progress lines, when the log has them
    cause: str = ""  # why it failed
    stage: str = ""  # what the build is doing now, read from its log
    compiling_for: float | None = None  # seconds since the compiler started, when it has
    basis: str = ""  # what `expected` was measured from

    def estimate(self) -> str:
        """The time left, estimated, saying what the estimate rests on."""
        if self.percent and 10 <= self.percent < 100 and (self.compiling_for or 0) >= 20:
            left = self.compiling_for * (100 - self.percent) / self.percent
            return f"about {duration(left)} left to compile (an estimate from this build's pace so far)"
        basis = f"an estimate: {self.basis}" if self.basis else "an estimate"
        if self.elapsed <= self.expected:
            return f"about {duration(self.expected - self.elapsed)} left ({basis})"
        return f"taking longer than the {duration(self.expected)} expected ({basis})"

    def describe(self) -> str:
        if self.status == "ready":
            return "the offline model is installed"
        if self.status == "building":
            if self.elapsed <= self.expected:
                far = f"{duration(self.elapsed)} of about {duration(self.expected)}"
            else:
                far = f"{duration(self.elapsed)} so far (usually about {duration(self.expected)})"
            doing = f", now {self.stage}" if self.stage else ""
            done = f", {self.percent} % compiled" if self.percent is not None else ""
            log = shown(log_file())
            return f"the offline model is being built: {far}{doing}{done}; {self.estimate()} (log: {log})"
        if self.status == "failed":
            return f"the offline model could not be built: {self.cause}. {ways_on()}"
        return f"the offline model is not installed (it needs {REQUIREMENTS}). {ways_on()}"

    def progress_line(self) -> str:
        """One line for the waiting cell: what happens, how long so far, the estimate."""
        return (
            f"Building the offline model: {self.stage or 'starting'}. "
            f"{duration(self.elapsed)} so far, {self.estimate()}. Log: {shown(log_file())}"
        )


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def shown(path: Path) -> str:
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


# What pip is doing, by the last of these lines in its log (pip's own lines start at the margin).
_STAGES = [
    (re.compile(r"^(Collecting|  Downloading) ", re.MULTILINE), "downloading packages"),
    (re.compile(r"^  (Installing build dependencies|Preparing metadata)", re.MULTILINE), "preparing the build"),
    (re.compile(r"^  Building wheel for llama-cpp-python.*: started", re.MULTILINE), "configuring llama.cpp"),
    (re.compile(r"^\s*\*\*\* Configuring CMake", re.MULTILINE), "configuring llama.cpp"),
    (_STEPS, "compiling llama.cpp"),
    (_PERCENT, "compiling llama.cpp"),
    (re.compile(r"^\s*\*\*\* (Installing project into wheel|Making wheel)", re.MULTILINE), "packing llama.cpp"),
    (re.compile(r"^Installing collected packages", re.MULTILINE), "installing the packages"),
    (re.compile(r"^Successfully installed", re.MULTILINE), "finishing"),
]


def _stage(log_text: str) -> str:
    """What the build is doing now, from the last line of its log that says."""
    latest, now = -1, "starting pip"
    for pattern, stage in _STAGES:
        starts = [match.start() for match in pattern.finditer(log_text)]
        if starts and starts[-1] > latest:
            latest, now = starts[-1], stage
    return now


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
        return f"compiling llama.cpp failed (details in {shown(log_file())})"
    return f"pip failed (details in {shown(log_file())})"


def _measured(state: dict) -> dict:
    """The fields of build.json that remember earlier builds' durations (kept from build to build)."""
    return {key: state[key] for key in ("last_seconds", "last_compiled_seconds") if state.get(key)}


def _expectation(state: dict) -> tuple[float, str]:
    """How long a build that compiles is expected to take, and what that was measured from."""
    if state.get("last_compiled_seconds"):
        seconds = float(state["last_compiled_seconds"])
        return seconds, f"the last build here that compiled llama.cpp took {duration(seconds)}"
    return float(FIRST_BUILD_SECONDS), FIRST_BUILD_BASIS


def build_state() -> BuildState:
    """Where the build stands now, from build.json, its log, and what this Python has installed."""
    state = _read_state()
    now = time.time()
    expected, basis = (
        (float(state["expected"]), state.get("basis", "")) if state.get("expected") else _expectation(state)
    )
    if state.get("status") == "building":
        if _alive(state.get("pid")):
            try:
                log = log_file().read_text(errors="replace")
            except OSError:
                log = ""
            compiling = state.get("compile_started")
            return BuildState(
                "building",
                now - float(state.get("started", now)),
                expected,
                _progress(log),
                stage=_stage(log),
                compiling_for=now - float(compiling) if compiling else None,
                basis=basis,
            )
        if not offline_model_installed():
            return BuildState("failed", cause="the build stopped before it finished (interrupted?)")
    if offline_model_installed():
        return BuildState("ready", float(state.get("seconds") or 0.0), expected, basis=basis)
    if state.get("status") == "failed":
        return BuildState("failed", float(state.get("seconds") or 0.0), expected, cause=state.get("cause", ""))
    return BuildState("missing", expected=expected, basis=basis)


# --- Building --------------------------------------------------------------------------


def requirements_file() -> Path:
    """The offline layer's requirements: the course folder's copy, else the one the wheel ships.

    An installed course used from a folder the lessons were not copied into has no copy of
    its own; the wheel's (helpers/course_files/) is the same file.
    """
    own = repo_root() / REQUIREMENTS
    return own if own.is_file() else course_files() / REQUIREMENTS


def _pip_command() -> list[str]:
    return [sys.executable, "-m", "pip", "install", "--verbose", "-r", str(requirements_file())]


def build(stamp: Path | None = None, echo: bool = False) -> int:
    """Install the offline layer now, recording state and log; touch `stamp` on success."""
    previous = _read_state()
    kept = _measured(previous)
    # A build that compiles takes minutes; one from pip's cached wheel, seconds. Expect the longer.
    expected, basis = _expectation(previous)
    started = time.time()
    building = dict(status="building", pid=os.getpid(), started=started, expected=expected, basis=basis, **kept)
    _write_state(**building)
    env = dict(os.environ, PIP_PROGRESS_BAR="off", CMAKE_ARGS=cmake_args())
    compiled = False
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
            if not compiled and _progress(line) is not None:  # the compiler's first step: time its pace from here
                compiled = True
                _write_state(**building, compile_started=time.time())
            if echo and not line.startswith("  "):  # pip's own lines, not the compiler's
                print(line, end="", flush=True)
        code = process.wait()
    seconds = time.time() - started
    if code == 0:
        kept["last_seconds"] = seconds
        if compiled:  # only a build that compiled tells how long the next one that compiles will take
            kept["last_compiled_seconds"] = seconds
        _write_state(status="ready", seconds=seconds, expected=expected, basis=basis, **kept)
        if stamp is not None:
            stamp.touch()
        return 0
    cause = failure_cause(log_file().read_text(errors="replace"))
    _write_state(status="failed", seconds=seconds, cause=cause, expected=expected, basis=basis, **kept)
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
    previous = _read_state()
    expected, basis = _expectation(previous)
    _write_state(
        status="building", pid=process.pid, started=time.time(), expected=expected, basis=basis, **_measured(previous)
    )
    return build_state()


def wait_for_offline_model(
    out=None, every: float = PROGRESS_EVERY_SECONDS, line: ProgressLine | None = None
) -> float | None:
    """Return once the offline model is installed, showing one line of progress, updated, while it builds.

    The line is a notebook output, a terminal line or, in a log, a plain line when the
    stage changes and every `every` seconds (helpers/progress.py). Returns how long the
    build took if this waited for it, else None. A `line` passed in is left open for the
    caller's next step; one made here ends with "The offline model is ready".

    Raises OfflineModelUnavailable, with the cause and the ways on, when the build
    failed or the model is not installed and nothing builds it. (In Colab, a missing
    model is built then and there.)
    """
    own = line is None
    line = line or ProgressLine(out, every=every)
    waited = False
    try:
        while True:
            state = build_state()
            if state.status == "ready":
                if not waited:
                    return None
                if own:
                    line.done(f"The offline model is ready (built in {duration(state.elapsed)}).", 100)
                return state.elapsed
            if state.status == "missing" and in_colab() and not waited:
                # Colab's set-up cell skipped it (a key was set), yet this cell needs it: build it now.
                state = start_build()
            if state.status != "building":
                raise OfflineModelUnavailable(state.describe()[0].upper() + state.describe()[1:])
            line.update(state.progress_line(), state.percent or 0, stage=state.stage)
            waited = True
            time.sleep(0.5)
    except BaseException:  # a failed build or an interrupt: end the line before the error is shown
        line.close()
        raise
    finally:
        if own:
            line.close()
