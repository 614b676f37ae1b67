"""Installing the offline model, by the name the README, the Makefile and `make lab` use.

    python -m helpers.offline_build start     # build in the background, return at once
    python -m helpers.offline_build install   # build now (or wait for the running build)
    python -m helpers.offline_build status    # building (how far), ready, failed (why)

The build itself is helpers/offline/build.py; its command line, helpers/offline/cli.py.
"""

import sys

from .offline.cli import build_main as main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
