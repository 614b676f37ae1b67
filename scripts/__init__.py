"""Scripts for the course's maintainers; run from the course folder as `python -m scripts.<name>`."""
