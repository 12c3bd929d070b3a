# dibao: the two commands a new user needs are `make dev` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: dev test lint format install clean-data help fonts

help:
	@echo "make dev        start PostgreSQL, Temporal, worker and API (Ctrl-C stops all)"
	@echo "make test       run the test suite against real Temporal and PostgreSQL"
	@echo "make lint       ruff (lint + format check) and mypy"
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

test: $(STAMP) fonts
	$(BIN)/python -m pytest

# The household file's PDF embeds CJK glyphs from Debian's fonts-noto-cjk: installed here when
# missing and run as root, else the command is printed.
fonts:
	@fc-list 2>/dev/null | grep -qi "Noto.*CJK" || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq fonts-noto-cjk; \
	  else \
	    echo "The household PDF needs CJK fonts; install them with:"; \
	    echo "  sudo apt-get update && sudo apt-get install -y fonts-noto-cjk"; \
	  fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean-data:
	rm -rf .data
