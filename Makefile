# Two commands: `make demo` and `make test`. Both create .venv from scratch when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The reference data sets (MNIST, 20 Newsgroups, Olivetti). A setting, not a code path:
# override with `make test AEKIT_DATA_DIR=/elsewhere`; tests on real data skip when absent.
AEKIT_DATA_DIR ?= $(abspath ../shared/data)
export AEKIT_DATA_DIR

EXTRAS ?= dev,onnx,tensorboard,mlflow,hub,explore

.PHONY: setup demo test test-slow coverage lint format bench gallery docs clean

setup: $(STAMP)

# torch is pinned on its own line first: on these machines 2.13.0 is a local CPU wheel, and a
# looser spec would pull a multi-GB CUDA build. The package itself declares torch>=2.3.
# The extras whose tests run in the suite (export, tracking, hub folders, the explorer) come
# too, so no test of theirs skips; torch is named again so nothing they pull can replace it.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[$(EXTRAS)]' torch==2.13.0
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/aekit demo --out demo-output

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

# Line coverage of src/ under the default suite (the slow tests excluded, as in `make test`).
coverage: $(STAMP)
	$(BIN)/python -m pytest -q --cov=aekit --cov-report=term

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples docs/hooks.py
	$(BIN)/ruff format --check src tests benchmarks examples docs/hooks.py
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks examples docs/hooks.py
	$(BIN)/ruff check --fix src tests benchmarks examples docs/hooks.py

bench: $(STAMP)
	$(BIN)/python benchmarks/throughput.py

# Every example of examples/ in full (two at a time, one thread each): its figure in
# docs/gallery/ and docs/gallery.md, the page that shows them with their code.
gallery: $(STAMP)
	$(BIN)/python examples/build_gallery.py

# The documentation site in site/ (open site/index.html from disk). --strict: a broken link,
# a page left out of the nav or an API name that no longer exists fails the build.
DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[docs]' torch==2.13.0
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) demo-output .pytest_cache site
