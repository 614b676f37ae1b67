# The course's commands. On a fresh machine, `make lab` or `make test` does all the set-up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

# How llama.cpp is compiled (library only; AVX2 rather than -march=native on x86) is set in
# helpers/offline_build.py, which every install of the offline model goes through; set
# CMAKE_ARGS to override it.

.PHONY: install bench-install browser lab app test test-e2e lint doctor record bench clean

# Two layers. The first, requirements.txt, installs anywhere without a compiler: the
# lessons, JupyterLab, the tests. Re-installed whenever its files change.
$(VENV)/.base-installed: requirements.txt requirements-lessons.txt requirements-lab.txt pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@start=$$(date +%s); \
	$(BIN)/python -m pip install -r requirements.txt && \
	echo $$(( $$(date +%s) - start )) > $(VENV)/.install-seconds
	@echo "install of requirements.txt took $$(cat $(VENV)/.install-seconds) s"
	touch $@

# The second, the offline model (requirements-offline.txt), compiles llama.cpp. `make test`,
# `make record` and CI install it up front (waiting for a background build if one runs);
# `make lab` builds it in the background and touches this file when it is done.
$(VENV)/.installed: $(VENV)/.base-installed requirements-offline.txt
	@start=$$(date +%s); \
	$(BIN)/python -m helpers.offline_build install && \
	echo $$(( $$(date +%s) - start )) > $(VENV)/.offline-install-seconds
	@echo "install of requirements-offline.txt took $$(cat $(VENV)/.offline-install-seconds) s"
	touch $@

install: $(VENV)/.installed

# JupyterLab refuses to run as root unless told it may (containers, CI).
LAB_FLAGS := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

LAB_ARGS ?=  # more options for JupyterLab, e.g. LAB_ARGS="--no-browser --port=8890"

# The course opens as soon as the first layer is in; the offline model builds meanwhile
# (state and log in .cache/offline_model/), and lessons that need it wait for it.
lab: $(VENV)/.base-installed  ## open the course in JupyterLab
	@$(BIN)/python -m helpers.offline_build start --stamp $(VENV)/.installed
	$(BIN)/python -m helpers.doctor || true
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_FLAGS) $(LAB_ARGS)

APP_PORT ?= 7860  # e.g. make app APP_PORT=7870

# The capstone's web page (lesson 16), on 127.0.0.1 only. Like `make lab`, it starts at once
# and builds the offline model in the background; with a key in .env it answers with your provider.
app: $(VENV)/.base-installed  ## the support assistant in your browser: http://127.0.0.1:$(APP_PORT)
	@$(BIN)/python -m helpers.offline_build start --stamp $(VENV)/.installed
	$(BIN)/python -m support_assistant.app --port $(APP_PORT)

# The browser test (tests/e2e) drives Debian's Chromium. As root on a Debian-like system
# we install it; elsewhere the test is skipped, with a note.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && apt-get install -y -qq chromium; } \
	      || echo "Could not install chromium: the browser test will be skipped"; \
	  else echo "Chromium not found: the browser test will be skipped (install your system's chromium)"; fi; }

test-e2e: install browser  ## only the browser test: every lesson run in JupyterLab
	$(BIN)/python -m pytest tests/e2e

test: install browser  ## lint, then every test: helpers, notebooks (nbval), the browser test
	$(BIN)/ruff check --no-cache .  # no cache: whether an import is first-party depends on files the cache does not track
	@start=$$(date +%s); \
	$(BIN)/python -m pytest; status=$$?; \
	mkdir -p .cache && echo $$(( $$(date +%s) - start )) > .cache/test-seconds; \
	exit $$status

record: install  ## re-run every notebook offline and save its outputs
	$(BIN)/python -m scripts.record_notebooks

lint: install
	$(BIN)/ruff check --no-cache .  # no cache: whether an import is first-party depends on files the cache does not track

doctor: install  ## the self-check
	$(BIN)/python -m helpers.doctor

clean:
	$(BIN)/python -m helpers.local_server stop || true
	rm -rf $(VENV) .cache build

bench: install  ## measure the offline server; writes BENCHMARKS.md
	$(BIN)/python -m benchmarks.bench

bench-install:  ## time `make lab` on a fresh clone with an empty pip cache (slow: compiles llama.cpp)
	$(PYTHON) benchmarks/fresh_install.py
