"""Classroom mode: the instructor's class server, started as the guide says, serves lessons run with a learner's key.

`python -m helpers.classroom start` runs in a subprocess with one engine of its own (a
course offline server on a loopback port behind the class front). The notebooks (not
modified) reach it through OPENAI_BASE_URL, OPENAI_API_KEY and OPENAI_MODEL alone, with
one learner's key, without falling back to the offline model; the instructor's usage
table then shows that learner's requests. Lessons 10 and 13 meet the class server's own
answers too (practice failures pass through, the SDK retries the class's 429s).
"""

import stat
import subprocess

import httpx
import nbformat
import pytest
from nbclient import NotebookClient

from course_tools.class_server import running_class_server
from course_tools.recorded_outputs import cell_text, unexpected_errors
from helpers import catalog, environment
from helpers.classroom import Roster, cli

pytestmark = pytest.mark.server

NOTEBOOKS = environment.repo_root() / "notebooks"
# Each lesson with a key of its own, as four learners would run them at the same time of day.
LESSONS = {
    "02_raw_http_endpoint.ipynb": "learner-02",
    "03_openai_sdk.ipynb": "learner-03",
    "10_errors_retries_and_cost.ipynb": "learner-04",
    "13_async_and_concurrency.ipynb": "learner-05",
}


class ClassServer:
    def __init__(self, port: int, process: subprocess.Popen, roster: Roster, out: str):
        self.port, self.process, self.roster, self.out = port, process, roster, out
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def usage(self) -> dict:
        headers = {"Authorization": f"Bearer {self.roster.instructor.key}"}
        rows = httpx.get(f"http://127.0.0.1:{self.port}/class/usage.json", headers=headers, timeout=10).json()
        return {row["name"]: row for row in rows["data"]}


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    """`python -m helpers.classroom start --learners 5 --engines 1`, as an instructor starts it; stopped with `stop`."""
    state = tmp_path_factory.mktemp("class-state")
    printed = {}
    with running_class_server(state, 5, ["--engines", "1"], printed) as (port, process, roster):
        server = ClassServer(port, process, roster, "")
        yield server
    assert process.returncode == 0
    assert not (state / "classroom" / "class-server.json").exists()
    for holder in [roster.instructor, *roster.learners.values()]:
        assert printed["out"].count(holder.key) == 1, holder.name  # printed once, in the start-up table
        assert holder.key not in printed["err"]  # the log names learners, never their keys


@pytest.fixture
def learner_env(class_server, online, env_file, request):
    """The lesson's learner's .env: the class settings only (CHAT_TUTORIAL_OFFLINE is unset)."""
    key = class_server.roster.learners[LESSONS[request.node.callspec.params["name"]]].key
    env_file.write_text(
        f"OPENAI_BASE_URL={class_server.base_url}\nOPENAI_API_KEY={key}\nOPENAI_MODEL={catalog.OFFLINE_MODEL}\n"
    )
    return class_server


@pytest.mark.parametrize("name", LESSONS)
def test_a_lesson_runs_against_the_class_server_with_a_learners_key(learner_env, name):
    learner = LESSONS[name]
    before = learner_env.usage()[learner]
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    # Keep going past errors, so that the assertions below can name every failing cell.
    client = NotebookClient(notebook, timeout=300, allow_errors=True, resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()

    errors = unexpected_errors(notebook, characters=300)
    assert not errors, errors

    provider_cell = next(c for c in notebook.cells if c.cell_type == "code" and "provider_settings(" in c.source)
    first_lines = cell_text(provider_cell)
    assert "offline practice model" not in first_lines, first_lines
    everything = "".join(cell_text(c) for c in notebook.cells if c.cell_type == "code")
    assert "Using the offline practice model" not in everything
    if "Base URL:" in first_lines:
        assert f"Base URL: {learner_env.base_url}" in first_lines
    # The class server did the work, on this learner's key.
    assert learner_env.usage()[learner]["requests"] > before["requests"]


def test_the_instructor_sees_each_learner_and_the_keys_stay_secret(class_server):
    keys = cli.keys_file()
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    usage = class_server.usage()
    assert sorted(name for name in usage if name != "instructor") == [f"learner-0{n}" for n in range(1, 6)]
    assert usage["learner-01"]["requests"] == 0
    wrong = httpx.post(
        f"{class_server.base_url}/chat/completions",
        headers={"Authorization": "Bearer class-not-a-key-of-this-class"},
        json={"model": catalog.OFFLINE_MODEL, "messages": [{"role": "user", "content": "Hi"}]},
        timeout=30,
    )
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
