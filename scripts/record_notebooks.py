"""Run every lesson top to bottom and save its outputs (`make record`).

Runs in the same settings as the tests (no keys, no .env, every provider on the
offline model, a fixed sampling seed: see course_tools/isolation.py), so the recorded outputs
are what nbval compares against and re-recording gives the same model text. Cells
tagged `raises-exception` may fail; any other error stops.

Afterwards it prints every model-text output that changed since the last commit, with
any screened word marked: read each one before you commit.
`python -m scripts.record_notebooks --changed` prints that list without recording.
Run it from the course folder as a module (`python -m scripts.record_notebooks [NN_name.ipynb ...]`),
or with the course folder on PYTHONPATH, so that `course_tools` imports.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_tools.isolation import isolate_environment
from course_tools.recorded_outputs import review_listing, screen_notebook

ROOT = Path(__file__).resolve().parent.parent


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


def review(paths: list[Path]) -> int:
    """Print the changed model outputs and the screen's findings; return how many outputs were flagged."""
    listings = [listing for listing in map(review_listing, paths) if listing]
    print("\nModel text that changed since the last commit (read it all before committing):")
    print("\n\n".join(listings) if listings else "(none)")
    flagged = [problem for path in paths for problem in screen_notebook(path)]
    for problem in flagged:
        print(f"SCREENED WORDS in {problem}: change the prompt and record again", file=sys.stderr)
    return len(flagged)


def main(arguments: list[str]) -> int:
    only_list = "--changed" in arguments
    names = [name for name in arguments if not name.startswith("--")]
    paths = [ROOT / "notebooks" / name for name in names] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    if not only_list:
        isolate_environment()
        from helpers import local_server

        local_server.stop()  # a server started without the recording seed must not answer
        try:
            for path in paths:
                print(f"recording {path.relative_to(ROOT)}", flush=True)
                record(path)
        finally:
            local_server.stop()
    return 1 if review(paths) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
