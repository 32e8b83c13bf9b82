# Two entry points for a fresh machine: `make quiz` and `make test`. Both build the virtual environment
# once (re-built when pyproject.toml changes) and then do their job.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: quiz test verify site lint bench mutants clean chromium

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 2>/dev/null || true
	$(BIN)/pip install --quiet -e ".[dev]" 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	$(BIN)/python -c "import torch, quiz" # fail here, not later, if the install did not take
	touch $(STAMP)

quiz: $(STAMP)
	$(BIN)/quiz take

test: $(STAMP) chromium
	$(BIN)/pytest

# tests/test_site_browser.py drives Debian's chromium (never a browser downloaded by playwright). If it cannot
# be installed, say so and carry on: the browser tests then fail with the same message instead of skipping.
chromium:
	@test -x /usr/bin/chromium || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; } \
		|| echo "*** could not install chromium: the browser tests will fail ***" >&2

verify: $(STAMP)
	$(BIN)/quiz verify

site: $(STAMP)
	$(BIN)/quiz site build

bench: $(STAMP)
	$(BIN)/python bench/bench.py --json bench/latest.json

# Break answers/reference.py and answers/formulas/ on purpose, one mutant at a time, and report which claim
# notices each (docs/mutants.md lists the equivalent survivors). A few minutes; not part of `make test`.
mutants: $(STAMP)
	$(BIN)/python bench/mutants.py

# --no-cache: a check must leave the tree as it found it (no .ruff_cache).
lint: $(STAMP)
	$(BIN)/ruff check --no-cache . && $(BIN)/ruff format --no-cache --check .

clean:
	rm -rf $(VENV) .pytest_cache site/build
