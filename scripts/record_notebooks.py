"""Run every lesson top to bottom and save its outputs (`make record`).

Runs in the same settings as the tests (no keys, no .env, every provider on the
offline model: see tests/isolation.py), so the recorded outputs are what nbval
compares against. Cells tagged `raises-exception` may fail; any other error stops.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from isolation import isolate_environment  # noqa: E402


def _merge_streams(outputs: list) -> list:
    """Join consecutive pieces of stdout (or stderr), as JupyterLab shows and saves them."""
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.output_type == "stream"
            and previous is not None
            and previous.output_type == "stream"
            and previous.name == output.name
        ):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def record(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=600,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = _merge_streams(cell.outputs)
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)


def main(names: list[str]) -> None:
    isolate_environment()
    paths = [ROOT / "notebooks" / name for name in names] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    for path in paths:
        print(f"recording {path.relative_to(ROOT)}", flush=True)
        record(path)


if __name__ == "__main__":
    main(sys.argv[1:])
