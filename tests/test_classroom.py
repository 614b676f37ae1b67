"""Classroom mode: lessons 2 and 3 run unchanged against a class server given only through .env.

A second offline server, with a key of its own, stands in for the instructor's
server. The notebooks (not modified) must reach it through OPENAI_BASE_URL,
OPENAI_API_KEY and OPENAI_MODEL alone, without falling back to the offline model.
"""

import nbformat
import pytest
from isolation import free_port
from nbclient import NotebookClient

from helpers import catalog, environment, local_server

pytestmark = pytest.mark.server

NOTEBOOKS = environment.repo_root() / "notebooks"
CLASS_KEY = "class-key-17"


@pytest.fixture
def class_server(tmp_path, monkeypatch):
    """The instructor's server: another port, another key, its own state folder."""
    monkeypatch.setenv("CHAT_TUTORIAL_STATE_DIR", str(tmp_path / "class-state"))
    port = free_port()
    server = local_server.start(port, api_key=CLASS_KEY)
    yield server
    local_server.stop(port)


@pytest.fixture
def learner_env(class_server, online, env_file):
    """A learner's .env that holds only the class settings (CHAT_TUTORIAL_OFFLINE is unset)."""
    env_file.write_text(
        f"OPENAI_BASE_URL={class_server.base_url}\nOPENAI_API_KEY={CLASS_KEY}\nOPENAI_MODEL={catalog.OFFLINE_MODEL}\n"
    )
    return class_server


def _outputs_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(str(output.get("data", {}).get("text/plain", "")))
        if output.get("output_type") == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
    return "".join(parts)


@pytest.mark.parametrize("name", ["02_raw_http_endpoint.ipynb", "03_openai_sdk.ipynb"])
def test_a_lesson_runs_against_the_class_server(learner_env, name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    # Keep going past errors, so that the assertions below can name every failing cell.
    client = NotebookClient(notebook, timeout=300, allow_errors=True, resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()

    errors = [
        f"cell {number}: {_outputs_text(cell)[-300:]}"
        for number, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        and "raises-exception" not in cell.metadata.get("tags", [])
        and any(output.get("output_type") == "error" for output in cell.get("outputs", []))
    ]
    assert not errors, errors

    provider_cell = next(c for c in notebook.cells if c.cell_type == "code" and "provider_settings(" in c.source)
    first_lines = _outputs_text(provider_cell)
    assert "offline practice model" not in first_lines, first_lines
    everything = "".join(_outputs_text(c) for c in notebook.cells if c.cell_type == "code")
    assert "Using the offline practice model" not in everything
    if "Base URL:" in first_lines:
        assert f"Base URL: {learner_env.base_url}" in first_lines
    # The class server did the work: it is still the one we started, with the class key.
    assert local_server.status(learner_env.port).pid == learner_env.pid
    assert local_server._key_accepted("127.0.0.1", learner_env.port, CLASS_KEY)
