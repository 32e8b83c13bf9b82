# Two entry points for a fresh machine: `make quiz` and `make test`. Both build the virtual environment
# once (re-built when pyproject.toml changes) and then do their job.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: quiz test verify site lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 2>/dev/null || true
	$(BIN)/pip install --quiet -e ".[dev]" 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	$(BIN)/python -c "import torch, quiz" # fail here, not later, if the install did not take
	touch $(STAMP)

quiz: $(STAMP)
	$(BIN)/quiz take

test: $(STAMP)
	$(BIN)/pytest

verify: $(STAMP)
	$(BIN)/quiz verify

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache site/build
