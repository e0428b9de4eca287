# Two commands matter: `make run` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export FLASK_APP := tracker

.PHONY: run test lint install fonts migrate seed clean

$(BIN)/flask: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/flask

install: $(BIN)/flask fonts

# Charts need a CJK font: Noto Sans CJK (SIL Open Font License 1.1) from Debian's fonts-noto-cjk.
fonts:
	@fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
	  || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	       && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-noto-cjk >/dev/null; } \
	  || echo "charts need a CJK font: install fonts-noto-cjk (sudo apt-get install fonts-noto-cjk)"

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed demo --if-empty

run: seed
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: install
	$(BIN)/ruff check tracker tests
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check tracker tests
	$(BIN)/ruff format --check tracker tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
