# uptrack — every command a user or CI runs. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MEDIA  ?= ../shared/media
VIDEO  ?= samples/squat_rear_2reps_cc-by-3.0.mp4
EXERCISE ?= squat

.PHONY: demo test lint typecheck unit bench accuracy models clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/uptrack analyze $(VIDEO) --exercise $(EXERCISE)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy layers/core/uptrack layers/service/uptrack_service

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python -m uptrack_service.bench --media $(MEDIA)

accuracy: $(STAMP)
	$(BIN)/python -m uptrack_service.accuracy --media $(MEDIA)

models:
	bash models/build.sh

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .aws-sam
