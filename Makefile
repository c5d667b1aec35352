# 두 명령만 기억하면 됩니다 / the two commands:
#   make serve   설치 후 사이트를 http://127.0.0.1:8000 에서 띄웁니다 (sets up, then serves the site)
#   make test    설치 후 전체 테스트를 돌립니다 (sets up, then runs the whole suite)
PY      ?= $(shell command -v python3.11 || command -v python3)
VENV    := .venv
BIN     := $(VENV)/bin
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup system-deps serve build test test-fast bench bench-build

setup: $(VENV)/.installed

# Test tools from npm, pinned in package-lock.json: axe-core (the accessibility checks of the browser tests).
# Only `make test` needs them; Node.js and npm come from Debian when the machine has none.
node_modules/.installed: package.json package-lock.json
	command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends nodejs npm; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Reinstall only when the pins change.
$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# The browser tests need Debian's Chromium and a Korean font (Playwright cannot download a browser here).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi nanum; then \
	  $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium fonts-nanum fontconfig; \
	fi

serve: setup
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

build: setup
	$(BIN)/mkdocs build --strict

test: setup system-deps node_modules/.installed
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

bench: setup
	$(BIN)/python -m bnref.course.bench

# Build speed and page weight of the site (a copy of the repo, clean cache); prints its figures.
bench-build: setup
	$(BIN)/python benchmarks/build_speed.py
