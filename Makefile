# bbal_tutorial: one command sets up and runs each job (see README.md).
# Every target first creates .venv/ and installs the project into it (once, or again when
# pyproject.toml changes).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export MPLBACKEND ?= Agg

.PHONY: setup lab test lint format demo reproduce benchmarks clean browser-deps

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "bbal_tutorial needs Python 3.10 or newer; run: make PYTHON=python3.12 ...")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --progress-bar off -e ".[dev,cluster]"
	@touch $(STAMP)

setup: $(STAMP)

## JupyterLab on the course notebooks (the main use). JupyterLab refuses to start as root unless
## told to; containers and cloud notebooks often run as root, so there it starts anyway, with a
## one-line warning, still bound to localhost and protected by its token. LAB_ARGS: more options.
LAB_ARGS ?=
lab: setup
	@if [ "$$(id -u)" -eq 0 ]; then \
		echo "make lab: running as root (common in containers); JupyterLab stays on 127.0.0.1 with its token" >&2; \
		root=--allow-root; \
	fi; \
	exec $(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 $$root $(LAB_ARGS) notebooks/

## The whole test suite: lint, format check, unit tests, notebooks (exit 1 if no test ran).
## It first gets a browser for tests/test_browser.py (browser-deps), and stops with one line
## saying why when it cannot.
test: setup
	@$(MAKE) --no-print-directory browser-deps SUDO_FLAGS=-n
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: treating that as a failure" >&2; exit 1; fi; \
	exit $$rc

## Chromium for tests/test_browser.py (JupyterLab in a real headless browser), when there is
## none at /usr/bin/chromium (or $$BBAL_CHROMIUM) and Playwright has not downloaded its own:
## Debian's package through apt-get where packages can be installed (as root, or with sudo),
## else Playwright's own download (~/.cache/ms-playwright) where the network allows it, else
## one line saying what to do. SUDO_FLAGS=-n (as `make test` uses it) never asks for a password.
SUDO_FLAGS ?=
browser-deps: setup
	@chromium="$${BBAL_CHROMIUM:-/usr/bin/chromium}"; \
	if [ -x "$$chromium" ]; then \
		echo "chromium already installed: $$chromium"; exit 0; \
	fi; \
	if [ -n "$${BBAL_CHROMIUM:-}" ]; then \
		echo "browser-deps: BBAL_CHROMIUM=$$BBAL_CHROMIUM is not an executable file: point it at a Chromium binary, or unset it" >&2; \
		exit 1; \
	fi; \
	if $(PY) tests/browser_path.py --playwright >/dev/null 2>&1; then \
		echo "Playwright's own Chromium already installed: $$($(PY) tests/browser_path.py --playwright)"; exit 0; \
	fi; \
	if command -v apt-get >/dev/null 2>&1; then \
		if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO="sudo $(SUDO_FLAGS)"; fi; \
		if $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
			$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
				chromium fonts-dejavu-core; then \
			exit 0; \
		fi; \
		echo "browser-deps: apt-get could not install Chromium; trying Playwright's own download" >&2; \
	fi; \
	if $(PY) -m playwright install chromium; then \
		echo "Playwright's own Chromium installed: $$($(PY) tests/browser_path.py --playwright)"; exit 0; \
	fi; \
	echo "browser-deps: no Chromium for tests/test_browser.py: apt-get needs root or password-less sudo, and Playwright's download needs the network; install Chromium yourself and set BBAL_CHROMIUM=/path/to/chromium" >&2; \
	exit 1

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Student versions of the notebooks in out/student/ (exercise solutions replaced by
## `raise NotImplementedError()`, outputs stripped; see "For instructors" in README.md)
.PHONY: student
student: setup
	$(PY) -m bbal_tutorial student notebooks out/student

## Headless main job: Repeated MNIST, random vs BALD vs BatchBALD, figure in out/demo/
demo: setup
	$(PY) -m bbal_tutorial demo

## Regenerate results/ (the cached runs the experiment notebooks read). Every run is
## single-threaded -- torch's CPU results depend on the thread count, and results/ was made with
## one -- and JOBS runs go at once (default: one per CPU core).
JOBS ?= $(shell nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 1)
reproduce: setup
	OMP_NUM_THREADS=1 $(PY) -m bbal_tutorial reproduce --out-dir results --jobs $(JOBS)

## Re-measure benchmarks/README.md (batchbald_redux is installed without its dependencies so that
## pip never replaces the torch build already in .venv)
benchmarks: setup
	$(PY) -m pip install --quiet --no-deps batchbald_redux toma
	$(PY) benchmarks/acquisition.py
	$(PY) benchmarks/loop.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
