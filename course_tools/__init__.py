"""The course's own tooling, shared by the tests, scripts/ and benchmarks/: not part of the lessons.

- isolation: the settings tests and recordings run in (no keys, offline, the recording seed, the tests' port).
- recorded_outputs: screen recorded notebook outputs, list the model text that changed.


Imported as `course_tools.<module>` with the course folder on sys.path: pytest puts it there
(pyproject.toml `pythonpath`), and scripts and benchmarks run as `python -m scripts.x` /
`python -m benchmarks.x` from the course folder (the Makefile does).
"""
