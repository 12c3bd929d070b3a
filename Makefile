# dibao: the two commands a new user needs are `make dev` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: dev test lint format install clean-data help browser-deps

help:
	@echo "make dev        start PostgreSQL, Temporal, worker and API (Ctrl-C stops all)"
	@echo "make test       run the test suite against real Temporal and PostgreSQL"
	@echo "make lint       ruff (lint + format check), mypy and the import layers (lint-imports)"
	@echo "make format     apply ruff's formatting and fixes"
	@echo "make clean-data delete .data/ (every local case, notice and audit row)"

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is needed (python3.11 or python3 on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

dev: $(STAMP)
	$(BIN)/dibao dev

# The console's browser tests drive Debian's Chromium with CJK fonts (tests/console), and the
# household PDF embeds those fonts; nothing
# is downloaded at run time. Installed here when running as root, otherwise named and stopped.
browser-deps:
	@if [ ! -e /usr/bin/chromium ] || [ ! -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk; \
	  else \
	    echo "The console's browser tests need Debian's Chromium and CJK fonts. Run:"; \
	    echo "  sudo apt-get install -y chromium fonts-noto-cjk"; \
	    exit 1; \
	  fi; \
	fi

# Two test processes (pytest-xdist), whole files each: a test mostly waits on Temporal,
# PostgreSQL or Chromium, so the second core is otherwise idle (11.5 minutes instead of 16
# here). Each process starts its own PostgreSQL and Temporal dev server. TEST_WORKERS=0 runs
# them in this process.
TEST_WORKERS ?= 2

test: $(STAMP) browser-deps
	$(BIN)/python -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean-data:
	rm -rf .data
