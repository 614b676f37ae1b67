"""Measurements of the offline server (make bench); run from the course folder as `python -m benchmarks.<name>`."""
