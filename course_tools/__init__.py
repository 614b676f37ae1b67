"""The course's own tooling, shared by the tests, scripts/ and benchmarks/: not part of the lessons.

- isolation: the settings tests and recordings run in (no keys, offline, the recording seed, the tests' port).
- recorded_outputs: read notebook outputs, screen recorded ones, list the model text that changed.
- fresh_env: a fresh virtual environment's settings, and a lesson run there (test_package, test_install).

Imported as `course_tools.<module>` with the course folder on sys.path: pytest puts it there
(pyproject.toml `pythonpath`), and scripts and benchmarks run as `python -m scripts.x` /
`python -m benchmarks.x` from the course folder (the Makefile does).
"""
