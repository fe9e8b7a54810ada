# RepayDesk — `make serve` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
MOTO_PORT ?= 5500
INDEX_DIR := chalicelib/search/index
export PORT MOTO_PORT

.PHONY: setup serve test lint test-fast test-any-hour token mail index system-deps bench clean package wheelhouse import-content

# Python environment: rebuilt when a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

# Debian packages for the browser tests: Chromium (never a browser download) and a CJK font; faketime
# (libfaketime) for `make test-any-hour`.
system-deps:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy" \
	    || ! command -v faketime >/dev/null; then \
	  echo "installing chromium, fonts-wqy-microhei and faketime"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei faketime >/dev/null; \
	fi

# The search index ships inside chalicelib/ so a deployed Lambda opens it from its code directory.
KB_SOURCES := $(wildcard kb/*.md kb/*.yaml) $(wildcard chalicelib/search/*.py chalicelib/search/build/*.py chalicelib/search/*.txt chalicelib/search/*.yaml) \
              chalicelib/private_hooks.py chalicelib/assistant/intents.yaml $(wildcard chalicelib/assistant/*.py)
$(INDEX_DIR)/.built: $(VENV)/.installed $(KB_SOURCES)
	$(PY) -m chalicelib.search build --source kb --out $(INDEX_DIR)
	$(PY) -m chalicelib.assistant build --index $(INDEX_DIR)
	touch $@

index: $(INDEX_DIR)/.built

# exec: the shell gives way to the supervisor, which stops everything it started on the first SIGINT,
# SIGTERM or SIGHUP (make forwards SIGTERM, so a group's SIGTERM reaches it twice) and ignores the rest.
serve: setup index
	exec $(PY) -m devtools.serve

# Two workers (the machine has 2 cores); e2e tests start their stacks on free ports of their own;
# --dist loadfile keeps each test file on one worker: the package tests share one build, the workspace
# browser tests one stack. (Not --dist loadgroup: with pytest 9.2 and xdist 3.8 it splits a group —
# xdist renames items through `_nodeid`, which pytest 9.2 no longer reads — and it did, in CI.)
PYTEST_WORKERS ?= 2
test: setup system-deps index lint
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile

# ruff on the whole tree, mypy on the domain packages and the shared kernel (both configured in pyproject.toml)
lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

# The fast tier: use cases against the in-memory stores, models and rules — no moto, no local stack, no index
# (README "Testing"). Seconds, not minutes: run it while editing; `make test` runs everything.
test-fast: setup
	$(PY) -m pytest -m unit -p no:cacheprovider

# The in-process tests as if the machine's clock read a weekday before opening (Wednesday 07:30 in Shanghai)
# and a Saturday night (22:30), through libfaketime; the clock runs on from there. Proves `make test` passes at
# any hour (README "Testing at any hour").
ANY_HOUR_INSTANTS := "@2026-12-08 23:30:00" "@2026-12-12 14:30:00"
test-any-hour: setup system-deps index
	@for at in $(ANY_HOUR_INSTANTS); do \
	  echo "== TZ=UTC faketime -f '$$at' pytest -m 'not e2e and not browser'"; \
	  TZ=UTC faketime -f "$$at" $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not e2e and not browser" \
	    || exit 1; \
	done

token: setup
	@test -n "$(USER)" || (echo "usage: make token USER=<name> [ROLE=support|senior-support|kb-editor]" >&2; exit 2)
	@$(PY) -m devtools.token "$(USER)" --role "$(ROLE)" --moto-port $(MOTO_PORT)

# Replies by e-mail: feed a raw mail through the inbound function on the running stack (docs/escalation.md).
# After a deploy: the seed articles, contacts and quick replies into the stage's empty content tables (once).
import-content: setup
	$(PY) -m devtools.import_content

mail: setup
	@test -n "$(FILE)" || (echo "usage: make mail FILE=<reply.eml>" >&2; exit 2)
	@$(PY) -m devtools.inbound_mail "$(FILE)" --moto-port $(MOTO_PORT)

# Deployable artefacts for stage prod in dist/: template.json (everything, one stack) + deployment.zip.
package: setup index
	$(PY) -m devtools.package
	$(VENV)/bin/cfn-lint dist/template.json

# Everything `make package` needs, for a build machine without a package index:
#   make wheelhouse   (once, online)   then   PIP_FIND_LINKS=$(CURDIR)/wheelhouse PIP_NO_INDEX=1 make package
wheelhouse: setup
	$(PY) -m pip download --quiet --disable-pip-version-check -r requirements.txt setuptools wheel -d wheelhouse
	grep -vE '^\s*(#|$$)' requirements.txt | while read -r req; do \
	  $(PY) -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
	    --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp -d wheelhouse "$$req" \
	    2>/dev/null || echo "  (no manylinux wheel for $$req: pure Python, built from source)"; \
	done

clean:
	rm -rf $(VENV) $(INDEX_DIR) dist .pytest_cache
