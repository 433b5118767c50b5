# mentor-local — the two commands a new user types are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
REPO   ?= $(CURDIR)
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint typecheck bench clean-venv

setup: $(STAMP) models/gemma-3-270m-q4_k_m.gguf models/embeddings-seed.sqlite

# Idempotent: re-runs only when pyproject.toml changes. torch is pinned to the CPU
# build first so that nothing pulls a multi-GB CUDA wheel on a laptop.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	@for tool in tmux strace; do command -v $$tool >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && (apt-get install -y -q $$tool >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $$tool >/dev/null 2>&1))) || echo "note: $$tool is not installed; the tests that need it say so and skip"; done
	touch $(STAMP)

models/gemma-3-270m-q4_k_m.gguf: $(STAMP)
	$(BIN)/python scripts/prepare_model.py

# The int8 ONNX embedder (exported once) and the pattern cards' vectors (embedded once); checked again
# when a card or the embedder code changes (only what is missing costs).
models/embeddings-seed.sqlite: models/gemma-3-270m-q4_k_m.gguf $(wildcard knowledge/*.md) mentor_local/embedding.py mentor_local/models.py
	$(BIN)/python scripts/prepare_model.py
	touch $@

run: setup
	$(BIN)/mentor index "$(REPO)"
	$(BIN)/mentor-tui --repo "$(REPO)"

test: setup
	$(BIN)/python -m pytest -q

lint:
	$(BIN)/ruff check mentor_local scripts tests
	$(BIN)/mypy

bench: setup
	$(BIN)/python scripts/bench/retrieval_eval.py
	$(BIN)/python scripts/bench/index_bench.py

clean-venv:
	rm -rf $(VENV)
