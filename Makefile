# Seedbed: `make run` serves the demo on http://127.0.0.1:8000; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SYSTEM_PACKAGES := fonts-noto-cjk libharfbuzz-subset0 chromium poppler-utils
LOCALE := core/locale

.PHONY: run test lint bench migrate demo compile messages system-deps postgres clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# Pango is usually present; reports need HarfBuzz subsetting and a CJK font, browser tests
# need Debian's Chromium. Installed with apt-get when running as root, else printed.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Seedbed needs these system packages; please run: sudo apt-get install$$missing"; fi; \
	fi

compile: $(STAMP)
	@$(BIN)/pybabel -q compile --use-fuzzy -d $(LOCALE)  # catalogues keep no header, which Babel reads as fuzzy

# Extract and update both catalogues with pybabel, then list what has no Chinese translation.
# Catalogues merge by union between branches (.gitattributes); the update keeps the first of
# any message a union merge left twice.
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg --no-location --omit-header --sort-output -o $(LOCALE)/messages.pot .
	$(BIN)/pybabel -q update --no-fuzzy-matching --omit-header --ignore-obsolete -i $(LOCALE)/messages.pot -d $(LOCALE)
	@$(BIN)/python tools/i18n.py missing

# Start the local PostgreSQL cluster when it is installed but stopped (tests create their own databases).
postgres:
	@if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] && [ -n "$$(ls /etc/postgresql 2>/dev/null)" ]; then \
	  if ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	    pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start || true; \
	    for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
	  fi; \
	fi

migrate: $(STAMP) compile
	$(BIN)/seedbed db upgrade

demo: migrate
	$(BIN)/seedbed demo load

run: $(STAMP) compile system-deps
	SEEDBED_ENV=$${SEEDBED_ENV:-development} $(BIN)/seedbed serve --migrate --demo

test: $(STAMP) compile system-deps postgres
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python tools/check_queries.py

bench: $(STAMP) compile system-deps postgres
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var/*.db* .pytest_cache .mypy_cache .ruff_cache
