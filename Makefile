# Plain entry points: `make run`, `make demo`, `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
STAMP  := $(VENV)/.installed

.PHONY: run demo test lint bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --upgrade -q pip
	$(PIP) install -c constraints.txt -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/colouru-gui assets/examples/1910Bike.jpg

demo: $(STAMP)
	$(BIN)/colouru colorize assets/examples -o out --skip-existing
	$(BIN)/colouru colorize assets/examples/demo/kingfisher_bw.png --hints assets/examples/demo/kingfisher_bw.hints.json -o out/with-hints --skip-existing

test: $(STAMP)
	$(BIN)/ruff check colouru gui training tests benchmarks scripts
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check colouru gui training tests benchmarks scripts

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_core.py

clean:
	rm -rf $(VENV) out build *.egg-info
