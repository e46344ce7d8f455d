#!/usr/bin/env bash
# The GPU check (issue #11), ready for the day the `device` tool lends a GPU: its `status`
# says at no cost whether this task has one. Never part of CI or the tests.
#
#   bash bench/gpu_check.sh prepare  # HERE, on the CPU machine with PyPI: puts the wheels the
#                                    # GPU image lacks (bitsandbytes, slimmed to its CUDA 13
#                                    # library; pydantic) under .whl/, git-ignored, < 64 MiB
#   bash bench/gpu_check.sh run      # ON THE DEVICE (one `run` call, timeout_s 600), with
#                                    #   carry: [".whl", "models/base/tokenizer.json",
#                                    #           "models/base/tokenizer_config.json",
#                                    #           "models/base/chat_template.jinja"]
#   bash bench/gpu_check.sh smoke    # anywhere: the same steps on the CPU with a tiny model
#
# `run` does, in one call:
#   1. the CUDA path of the default train and evaluate code on SmolLM2-135M's shape and
#      tokenizer: the recipe's load_base / attach_lora / optimizer_step with compute_dtype
#      auto (bf16 on a bf16 GPU), then the adapter rebuilt by evaluate's load_scoring_model
#      and scored base vs adapter. The weights are random: SmolLM2's GGUF (98 MB) is over
#      the 64 MiB a call may carry, and the GPU image has neither DVC nor lm-eval, so the
#      whole `dvc repro` cannot run there;
#   2. QLoRA throughput, peak memory and MFU on a ~1.04 B random-initialised Llama, bf16,
#      4-bit NF4 vs no quantisation (bench/qlora_gpu.py).
# It writes bench/results/gpu.json (and $OUT/gpu.json when $OUT is set, so the device
# tool brings it back).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
WHEELS=.whl
RESULTS=bench/results

prepare() {
  python=.venv/bin/python
  rm -rf "$WHEELS" /tmp/mahrem-bnb && mkdir -p "$WHEELS" /tmp/mahrem-bnb
  grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
  platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64
             --platform manylinux2014_x86_64)
  versions() { "$python" -c "import importlib.metadata as m; print(m.version('$1'))"; }
  # The device's python3 is 3.12 (KINDS.md); bitsandbytes is pure-Python plus shared libraries.
  for pkg in "bitsandbytes==$(versions bitsandbytes)" "pydantic==$(versions pydantic)" \
             "pydantic-core==$(versions pydantic-core)" "annotated-types==$(versions annotated-types)" \
             "typing-inspection==$(versions typing-inspection)"; do
    "$python" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      "${platforms[@]}" -d /tmp/mahrem-bnb "$pkg"
  done
  # bitsandbytes ships one CUDA library per CUDA version; the image runs CUDA 13, so keep
  # only the cuda13x and CPU libraries to stay under the carry limit.
  "$python" - <<'EOF'
import pathlib, re, shutil, zipfile
src = pathlib.Path("/tmp/mahrem-bnb")
for wheel in src.glob("*.whl"):
    if not wheel.name.startswith("bitsandbytes"):
        shutil.copy(wheel, ".whl")
        continue
    with zipfile.ZipFile(wheel) as zin, zipfile.ZipFile(pathlib.Path(".whl") / wheel.name, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            lib = re.search(r"libbitsandbytes_cuda(\d+)", item.filename)
            if lib and not lib.group(1).startswith("13"):
                continue
            zout.writestr(item, zin.read(item.filename))
EOF
  du -ch "$WHEELS"/*.whl | tail -1
  echo "carry: .whl and models/base/{tokenizer.json,tokenizer_config.json,chat_template.jinja} (run \`mahrem base\` first)"
}

run() {
  if [ -d "$WHEELS" ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl
    export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
  fi
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
  mkdir -p "$RESULTS"
  python3 bench/qlora_gpu.py --size smollm2 --tokenizer models/base --score --steps 10 --batch-size 8 \
    --seq-len 512 --out "$RESULTS/gpu_smollm2.json"
  python3 bench/qlora_gpu.py --size 1b --steps 10 --batch-size 8 --seq-len 1024 --out "$RESULTS/gpu_1b.json"
  combine
}

smoke() {
  local python=.venv/bin/python tok=""
  [ -f models/base/tokenizer.json ] && tok="--tokenizer models/base --score"
  mkdir -p "$RESULTS/smoke"
  # shellcheck disable=SC2086
  "$python" bench/qlora_gpu.py --size tiny --device cpu --threads 1 --steps 1 --batch-size 2 --seq-len 32 \
    $tok --out "$RESULTS/smoke/gpu_smollm2.json"
  "$python" bench/qlora_gpu.py --size tiny --device cpu --threads 1 --steps 1 --batch-size 2 --seq-len 32 \
    --out "$RESULTS/smoke/gpu_1b.json"
  RESULTS="$RESULTS/smoke" combine
}

combine() {
  "${PYTHON:-python3}" - "$RESULTS" <<'EOF'
import json, os, pathlib, sys
results = pathlib.Path(sys.argv[1])
report = {"smollm2_cuda_path": json.loads((results / "gpu_smollm2.json").read_text()),
          "qlora_1b": json.loads((results / "gpu_1b.json").read_text())}
text = json.dumps(report, indent=2) + "\n"
(results / "gpu.json").write_text(text)
if os.environ.get("OUT"):
    pathlib.Path(os.environ["OUT"], "gpu.json").write_text(text)
print(f"-> {results / 'gpu.json'}")
EOF
}

case "$mode" in
  prepare) prepare ;;
  run) run ;;
  smoke) PYTHON=.venv/bin/python smoke ;;
  *) sed -n '2,27p' "$0"; exit 2 ;;
esac
