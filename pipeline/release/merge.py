"""``mahrem merge``: fold a verified adapter into its base model, for runtimes without PEFT.

**Two targets.** The adapter was trained (QLoRA, pipeline/train/model.py) and evaluated
(pipeline/evaluate/model.py) against the *4-bit* base: every linear layer quantized by
bitsandbytes (NF4, double quantization) and de-quantized on the fly. What LoRA learned is
a correction to those de-quantized weights ``Ŵ``, not to the full-precision ``W``.

* ``dequantized`` (the default): each linear layer that training quantized gets ``Ŵ`` —
  the base quantized by bitsandbytes with the settings the bundle's provenance records,
  and de-quantized back with bitsandbytes' own ``dequantize_4bit`` — and the adapter is
  merged into that. The merged model is the model that was trained, evaluated and gated,
  up to floating-point rounding; that is what the bundle's signature vouches for, hence
  the default.
* ``original``: the adapter merged into ``W`` itself (the behaviour before the two
  targets existed). The result keeps the base's full precision but applies a correction
  made for ``Ŵ`` to ``W``: a model nobody measured, better or worse.

**Measured, not assumed.** For either target the merged model is compared with the
unmerged one — the adapter under PEFT on the 4-bit base, loaded as evaluate loads it on a
CPU (bitsandbytes' quantization, each layer de-quantized once, :func:`dequantize_once`) —
on the first ``n`` usable records of the anonymized holdout, rendered into tokens exactly
as training renders them (:func:`pipeline.train.data.tokenize_record`, the assistant
tokens scored, truncated at the recorded ``train.max_seq_len``). Two figures: the largest
absolute logit difference over every position, and the holdout loss difference (mean
token NLL over the assistant tokens, merged − unmerged). Both go into ``digest.json``
with ``n`` and the holdout file's SHA-256.

**Where the quantization settings come from.** The bundle's provenance: the quant type
and double quantization from ``params.yaml``'s ``train:`` values (else the quant type
training recorded, else the train defaults), the dtype the base was loaded and quantized
in from the compute dtype training recorded (else the merge's ``dtype``). The block size
is not a training parameter: training leaves bitsandbytes' default, and the one used here
is read from the quantized layers and recorded. ``digest.json`` says which source each
setting came from.

**Chain of custody.** The merged directory carries ``digest.json``, ``provenance.json`` —
an in-toto Statement v1 (SLSA Provenance v1 predicate) whose subjects are the merged
files and whose inputs are the bundle (its signed statement ``provenance.json`` and its
``model.sig``, by SHA-256), the adapter, the base files and the holdout, with the target
and figures in ``mahrem_merge`` — and ``model.sig``, an OpenSSF model-signing signature
over all of it made with the signing key (pipeline/keys.py) exactly as signoff signs a
bundle, so ``model_signing verify key`` accepts it.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import math
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import ConfigError, file_digest
from pipeline.io import InputError, QuarantineEntry, atomic_dir, read_records, write_json
from pipeline.keys import SigningKey
from pipeline.release.adapters import DTYPES, check_base, load_base, resolve_dtype, verified_copy
from pipeline.release.provenance import PREDICATE_TYPE, PROVENANCE_FILE, STATEMENT_TYPE, timestamp
from pipeline.release.registry import ReleaseRefused
from pipeline.release.signing import SIGNATURE_FILE, check_signature, sign_bundle

MERGE_DIGEST = "digest.json"
MERGE_STATEMENT = PROVENANCE_FILE  # the merged model's in-toto statement, named as in a bundle
TARGETS = ("dequantized", "original")
DEFAULT_TARGET = "dequantized"
DEFAULT_HOLDOUT = Path("data/anonymized/holdout.jsonl")
DEFAULT_N = 32
QUANT_TYPES = ("nf4", "fp4", "none")
BUILD_TYPE = "urn:mahrem:slsa:build-type:merge:v1"
BUILDER_ID = "urn:mahrem:slsa:builder:mahrem-merge"


@dataclass(frozen=True)
class Quantization:
    """How training quantized the base, and where each setting was read."""

    quant_type: str  # nf4 | fp4 | none
    double_quant: bool
    dtype: str  # what the base was loaded and quantized in (training's compute dtype)
    max_seq_len: int  # the token window training scored records in
    sources: dict[str, str] = field(default_factory=dict)
    blocksize: int | None = None  # read from the quantized layers
    layers: int = 0  # how many linear layers bitsandbytes quantized

    def to_json(self) -> dict[str, Any]:
        return {
            "quant_type": self.quant_type, "double_quant": self.double_quant, "blocksize": self.blocksize,
            "dtype": self.dtype, "layers_quantized": self.layers, "max_seq_len": self.max_seq_len,
            "sources": self.sources,
        }  # fmt: skip


@dataclass(frozen=True)
class MergeResult:
    out_dir: Path
    bundle: str  # <name>-<version>
    files: dict[str, str]  # model file -> SHA-256 (digest.json, provenance.json and model.sig aside)
    target: str = DEFAULT_TARGET
    figures: dict[str, Any] = field(default_factory=dict)
    quantization: dict[str, Any] = field(default_factory=dict)
    key_id: str = ""
    development_key: bool = False
    erasure_warnings: list[str] = field(default_factory=list)


def _node(obj: Any, *keys: str) -> Any:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def training_quantization(statement: dict[str, Any], fallback_dtype: str, bundle: Path) -> Quantization:
    """The quantization training used, read from the bundle's provenance (train defaults where absent)."""
    from pipeline.train.config import TrainParams

    defaults = TrainParams()
    params = _node(statement, "predicate", "buildDefinition", "externalParameters", "params", "values", "train")
    trained = _node(statement, "predicate", "buildDefinition", "internalParameters", "training")
    params = params if isinstance(params, dict) else {}
    trained = trained if isinstance(trained, dict) else {}
    sources: dict[str, str] = {}

    def pick(name: str, *candidates: tuple[str, Any], default: Any) -> Any:
        for source, value in candidates:
            if value is not None:
                sources[name] = f"provenance: {source}"
                return value
        sources[name] = "train default (not recorded in the bundle)"
        return default

    quant_type = pick("quant_type", ("params train.quantization", params.get("quantization")),
                      ("training.quantization", trained.get("quantization")), default=defaults.quantization)
    double_quant = pick("double_quant", ("params train.double_quant", params.get("double_quant")),
                        default=defaults.double_quant)
    max_seq_len = pick("max_seq_len", ("params train.max_seq_len", params.get("max_seq_len")),
                       default=defaults.max_seq_len)
    if trained.get("compute_dtype") is not None:
        sources["dtype"], dtype = "provenance: training.compute_dtype", trained["compute_dtype"]
    elif params.get("compute_dtype") in DTYPES:  # a fixed dtype in params ('auto' says nothing by itself)
        sources["dtype"], dtype = "provenance: params train.compute_dtype", params["compute_dtype"]
    else:
        sources["dtype"], dtype = "not recorded in the bundle: the merge's dtype", fallback_dtype
    problems = []
    if quant_type not in QUANT_TYPES:
        problems.append(f"quantization {quant_type!r} (expected one of {', '.join(QUANT_TYPES)})")
    if not isinstance(double_quant, bool):
        problems.append(f"double_quant {double_quant!r} (expected true/false)")
    if dtype not in DTYPES:
        problems.append(f"compute dtype {dtype!r} (expected one of {', '.join(DTYPES)})")
    if isinstance(max_seq_len, bool) or not isinstance(max_seq_len, int) or max_seq_len < 2:
        problems.append(f"max_seq_len {max_seq_len!r} (expected an integer ≥ 2)")
    if problems:
        raise ReleaseRefused(f"{bundle}: its provenance records a training setup merge cannot rebuild: "
                             + "; ".join(problems) + ". Merge a bundle written by `mahrem signoff`.")
    return Quantization(quant_type, double_quant, dtype, max_seq_len, sources)


# --- the holdout ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Holdout:
    path: Path
    sha256: str
    records: list[Any]  # TokenizedRecord
    requested: int


def read_holdout(path: Path, n: int, tokenizer: Any, max_seq_len: int) -> Holdout:
    """The first ``n`` holdout records that have tokens to score, tokenized as training does."""
    from pipeline.train.data import tokenize_record

    path = Path(path)
    what = ("merge measures the merged model against the unmerged one on it. Run `mahrem anonymize` "
            "(or `dvc repro anonymize`) to write it, or pass --holdout with the anonymized holdout (JSONL).")
    if not path.is_file():
        state = "is not a regular file" if path.exists() else "no such file"
        raise InputError(f"--holdout {path}: {state}; {what}")
    if n < 1:
        raise InputError(f"--n {n}: give at least 1 holdout record.")
    bad: list[QuarantineEntry] = []
    picked = []
    for record in read_records(path, bad.append):
        if bad:
            break
        tokenized = tokenize_record(tokenizer, record.data, max_seq_len)
        if tokenized.label_count == 0:
            continue  # nothing training would learn from it within the window
        picked.append(tokenized)
        if len(picked) == n:
            break
    if bad:
        first = bad[0]
        raise InputError(f"--holdout {first.file}:{first.line}: {first.reason}. The holdout must be JSONL chat or "
                         f"text records as `mahrem anonymize` writes them; {what}")
    if not picked:
        raise InputError(f"--holdout {path}: no record with tokens to score (empty, or no assistant token within "
                         f"the first {max_seq_len} tokens); {what}")
    return Holdout(path, file_digest(path), picked, n)


# --- models ----------------------------------------------------------------------------------


def _unmerged_model(base: Path, adapter: Path, quant: Quantization) -> tuple[Any, dict[str, Any], Quantization]:
    """The adapter under PEFT on the base as evaluate loads it, and each quantized layer's ``Ŵ``.

    Returns ``(peft_model, {layer name: de-quantized weight}, quant with block size and
    layer count filled in)``. The 4-bit model is built by transformers + bitsandbytes with
    train's ``BitsAndBytesConfig``; on the CPU evaluate then swaps each ``Linear4bit`` for
    its once-de-quantized twin (same numbers as bitsandbytes' dequantize-then-matmul path).
    """
    import dataclasses

    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    from pipeline.evaluate.model import base_config, dequantize_once

    dtype = getattr(torch, quant.dtype)
    kwargs: dict[str, Any] = {"config": base_config(base), "dtype": dtype, "local_files_only": True}
    if quant.quant_type != "none":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type=quant.quant_type,
            bnb_4bit_use_double_quant=quant.double_quant,
            bnb_4bit_compute_dtype=dtype,
        )
        kwargs["device_map"] = {"": "cpu"}
    model = AutoModelForCausalLM.from_pretrained(base, **kwargs)
    dequantized: dict[str, Any] = {}
    blocksizes: set[int] = set()
    if quant.quant_type != "none":
        import bitsandbytes as bnb

        for name, module in model.named_modules():
            if isinstance(module, bnb.nn.Linear4bit):
                state = module.weight.quant_state
                blocksizes.add(int(state.blocksize))
                dequantized[name] = bnb.functional.dequantize_4bit(module.weight.data, state)
        dequantize_once(model)
    quant = dataclasses.replace(quant, blocksize=min(blocksizes) if len(blocksizes) == 1 else None,
                                layers=len(dequantized))
    peft_model = PeftModel.from_pretrained(model, adapter, is_trainable=False)
    return peft_model.eval(), dequantized, quant


def _merged_model(base: Path, adapter: Path, dtype: str, dequantized: dict[str, Any] | None) -> tuple[Any, Any]:
    """The base in ``dtype`` — its quantized layers set to ``Ŵ`` when given — with the adapter merged in."""
    import torch
    from peft import PeftModel

    model, tokenizer = load_base(base, dtype)
    if dequantized:
        modules = dict(model.named_modules())
        with torch.no_grad():
            for name, weight in dequantized.items():
                linear = modules[name]
                if tuple(linear.weight.shape) != tuple(weight.shape):  # pragma: no cover - one base, two loads
                    raise RuntimeError(f"{name}: de-quantized weight {tuple(weight.shape)} does not fit "
                                       f"{tuple(linear.weight.shape)}")
                linear.weight.copy_(weight.to(linear.weight.dtype))
    return PeftModel.from_pretrained(model, adapter).merge_and_unload().eval(), tokenizer


def measure(merged: Any, unmerged: Any, holdout: Holdout) -> dict[str, Any]:
    """Largest |logit difference| and mean token NLL of both models on the holdout records."""
    import torch
    import torch.nn.functional as F

    from pipeline.train.data import IGNORE_INDEX

    max_diff = 0.0
    nll = {"merged": 0.0, "unmerged": 0.0}
    tokens = positions = 0
    with torch.inference_mode():
        for record in holdout.records:
            ids = torch.tensor([record.input_ids], dtype=torch.long)
            labels = torch.tensor(record.labels[1:], dtype=torch.long)
            keep = labels != IGNORE_INDEX
            logits = {}
            for name, model in (("merged", merged), ("unmerged", unmerged)):
                logits[name] = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0].float()
                # float64: a difference of 1e-7 per token must not drown in a float32 sum's rounding.
                nll[name] += float(F.cross_entropy(logits[name][:-1][keep].double(), labels[keep], reduction="sum"))
            max_diff = max(max_diff, float((logits["merged"] - logits["unmerged"]).abs().max()))
            tokens += int(keep.sum())
            positions += len(record.input_ids)
    loss = {name: total / tokens for name, total in nll.items()}
    figures = {
        "n": len(holdout.records),
        "n_requested": holdout.requested,
        "holdout": {"path": holdout.path.as_posix(), "sha256": holdout.sha256},
        "positions": positions,
        "tokens_scored": tokens,
        "max_abs_logit_diff": max_diff,
        "loss_merged": loss["merged"],
        "loss_unmerged": loss["unmerged"],
        "loss_diff": loss["merged"] - loss["unmerged"],
    }
    bad = [k for k in ("max_abs_logit_diff", "loss_merged", "loss_unmerged") if not math.isfinite(figures[k])]
    if bad:
        raise ReleaseRefused(
            f"the merged model's figures are not finite ({', '.join(bad)}): its logits overflow or are NaN. "
            "Merge in a wider --dtype (float32)."
        )
    return figures


# --- provenance -------------------------------------------------------------------------------


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("mahrem", "torch", "transformers", "peft", "bitsandbytes", "model-signing", "in-toto-attestation"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def _resource(name: str, digest: str, role: str) -> dict[str, Any]:
    return {"name": name, "digest": {"sha256": digest}, "annotations": {"role": role}}


def merge_statement(
    *,
    subjects: dict[str, str],
    bundle: Path,
    bundle_copy: Path,
    bundle_statement: dict[str, Any],
    base: Path,
    holdout: Holdout,
    target: str,
    dtype: str,
    quantization: dict[str, Any],
    figures: dict[str, Any],
    key: SigningKey,
    started: dt.datetime,
    finished: dt.datetime,
) -> dict[str, Any]:
    """The merged model's in-toto Statement v1: its files, built from the bundle (by digest)."""
    info = bundle_statement["predicate"]["mahrem_bundle"]
    prefix = Path(bundle).as_posix().rstrip("/")
    statement_digest = file_digest(bundle_copy / PROVENANCE_FILE)
    dependencies = [
        _resource(f"{prefix}/{PROVENANCE_FILE}", statement_digest, "bundle-statement"),
        _resource(f"{prefix}/{SIGNATURE_FILE}", file_digest(bundle_copy / SIGNATURE_FILE), "bundle-signature"),
        *(_resource(f"{prefix}/{s['name']}", s["digest"]["sha256"], "adapter")
          for s in bundle_statement["subject"] if s["name"].startswith("adapter_")),
        *(_resource((Path(base) / Path(d["name"]).name).as_posix(), d["digest"]["sha256"], "base-model")
          for d in bundle_statement["predicate"]["buildDefinition"]["resolvedDependencies"]
          if (d.get("annotations") or {}).get("role") == "base-model"),
        _resource(holdout.path.as_posix(), holdout.sha256, "holdout"),
    ]
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": digest}} for name, digest in sorted(subjects.items())],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "bundle": {"name": info["name"], "version": info["version"], "path": prefix},
                    "target": target,
                    "dtype": dtype,
                    "holdout": {"path": holdout.path.as_posix(), "n": holdout.requested},
                },
                "internalParameters": {"quantization": quantization, "versions": _versions()},
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {"id": BUILDER_ID, "version": {k: v for k, v in _versions().items()
                                                          if k in ("mahrem", "model-signing")}},
                "metadata": {"invocationId": str(uuid.uuid4()), "startedOn": timestamp(started),
                             "finishedOn": timestamp(finished)},
            },
            "mahrem_merge": {
                "bundle": f"{info['name']}-{info['version']}",
                "bundle_statement_sha256": statement_digest,
                "base_model": info["base_model"],
                "target": target,
                "dtype": dtype,
                "quantization": quantization,
                "figures": figures,
                "signer": {"key_id": key.key_id, "development_key": key.development},
            },
        },
    }
    validate_merge_statement(statement)
    return statement


def validate_merge_statement(statement: Any) -> None:
    """Check a statement against the in-toto v1 and SLSA Provenance v1 schemas (``ValueError`` if not)."""
    from google.protobuf import json_format
    from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.statement import Statement

    try:
        pb = json_format.ParseDict(statement, statement_pb2.Statement())
        Statement.copy_from_pb(pb).validate()
        json_format.ParseDict(statement.get("predicate"), provenance_pb2.Provenance(), ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a valid in-toto Statement v1 / SLSA Provenance v1: {exc}") from None


# --- where the merged model goes ---------------------------------------------------------------


def is_merge_output(directory: Path) -> bool:
    """Whether ``directory`` holds the ``digest.json`` of an earlier merge (so it may be replaced)."""
    import json

    try:
        digest = json.loads((Path(directory) / MERGE_DIGEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(digest, dict) and {"bundle", "target", "measured", "files"} <= set(digest)


def check_merge_out(out_dir: Path, bundle: Path, base: Path) -> None:
    """Refuse an ``--out`` the merge must not replace; checked before anything is loaded.

    The merged directory is built aside and then swapped in, replacing whatever was at
    ``out_dir``: so ``out_dir`` may not be, contain or lie inside the bundle or the base
    (nor contain the working directory), and an existing non-empty directory is replaced
    only when it is an earlier merge's output (it holds a merge's ``digest.json``).
    """
    from pipeline.io import check_output_dir

    out_dir = Path(out_dir)
    if out_dir.name in ("", ".", ".."):
        raise ConfigError(f"--out {out_dir}: name the directory the merged model goes to by its own name "
                          "(e.g. --out models/merged); the merge replaces that whole directory.")
    check_output_dir(out_dir, "--out")
    out = out_dir.resolve()
    for option, path in (("the bundle", bundle), ("--base", base)):
        other = Path(path).resolve()
        if out == other or other.is_relative_to(out) or out.is_relative_to(other):
            relation = ("is" if out == other else "contains" if other.is_relative_to(out) else "lies inside")
            raise ConfigError(f"--out {out_dir}: {relation} {option} ({path}); the merge replaces the whole --out "
                              "directory, which would destroy it. Choose a new directory elsewhere, e.g. "
                              "--out models/merged.")
    if Path.cwd().resolve().is_relative_to(out):
        raise ConfigError(f"--out {out_dir}: is or contains the working directory; the merge replaces the whole "
                          "--out directory. Choose a new directory, e.g. --out models/merged.")
    if out.is_dir() and any(out.iterdir()) and not is_merge_output(out):
        raise ConfigError(f"--out {out_dir}: an existing directory that is not empty and not the output of an "
                          f"earlier merge (no merge {MERGE_DIGEST} in it); the merge would replace all of it. Choose "
                          "a new or empty directory, or remove this one yourself if it may go.")


# --- the stage ------------------------------------------------------------------------------


def merge_bundle(
    bundle: Path,
    public_key: Path,
    out_dir: Path,
    base: Path = Path("models/base"),
    *,
    key: SigningKey,
    dtype: str = "auto",
    target: str = DEFAULT_TARGET,
    holdout: Path = DEFAULT_HOLDOUT,
    n: int = DEFAULT_N,
    holdings_dir: Path | None = None,
    erasure_file: Path | None = None,
) -> MergeResult:
    """Verify ``bundle``, merge its adapter into ``base`` (``target``), measure, sign; see the module doc.

    The erasure warnings for ``bundle`` (:func:`pipeline.release.holdings.erasure_warnings`,
    with the controller's ``holdings_dir`` and ``erasure_file`` where given, else their
    defaults) are returned and recorded in ``digest.json`` as ``erasure_warnings``.
    """
    if target not in TARGETS:
        raise ConfigError(f"--target {target!r}: use one of {', '.join(TARGETS)}.")
    check_merge_out(out_dir, bundle, base)
    from pipeline.release.holdings import HOLDINGS_DIR, erasure_warnings
    from pipeline.train.model import quiet_loading

    warnings = erasure_warnings(Path(bundle), holdings_dir=holdings_dir if holdings_dir is not None else HOLDINGS_DIR,
                                erasure_file=erasure_file)
    started = dt.datetime.now(dt.timezone.utc)
    dtype = resolve_dtype(dtype)
    with verified_copy(bundle, public_key) as (copy, statement):
        check_base(base, statement)
        quant = training_quantization(statement, dtype, Path(bundle))
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
        scored = read_holdout(holdout, n, tokenizer, quant.max_seq_len)
        with quiet_loading():
            unmerged, dequantized, quant = _unmerged_model(base, copy, quant)
            merged, tokenizer = _merged_model(base, copy, dtype, dequantized if target == "dequantized" else None)
        figures = measure(merged, unmerged, scored)
        del unmerged, dequantized
        info = statement["predicate"]["mahrem_bundle"]
        subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
        name = f"{info['name']}-{info['version']}"
        with atomic_dir(out_dir) as tmp:
            with quiet_loading():
                merged.save_pretrained(tmp)
                tokenizer.save_pretrained(tmp)
            files = {p.name: file_digest(p) for p in sorted(tmp.iterdir()) if p.is_file()}
            quantization = {**quant.to_json(), "applied": target == "dequantized" and quant.quant_type != "none"}
            write_json(tmp / MERGE_DIGEST, {
                "bundle": name,
                "base_model": info["base_model"],
                "adapter_sha256": {k: v for k, v in subjects.items() if k.startswith("adapter_")},
                "bundle_statement_sha256": file_digest(copy / PROVENANCE_FILE),
                "dtype": dtype,
                "target": target,
                "quantization": quantization,
                "measured": {
                    "against": (f"the unmerged adapter under PEFT on the {quant.quant_type} base as evaluate loads it "
                                f"({quant.dtype}), on the first n holdout records"),
                    **figures,
                },
                "files": files,
                "erasure_warnings": warnings,
            })
            outputs = {p.name: file_digest(p) for p in sorted(tmp.iterdir()) if p.is_file()}
            write_json(tmp / MERGE_STATEMENT, merge_statement(
                subjects=outputs, bundle=Path(bundle), bundle_copy=copy, bundle_statement=statement, base=Path(base),
                holdout=scored, target=target, dtype=dtype, quantization=quantization, figures=figures, key=key,
                started=started, finished=dt.datetime.now(dt.timezone.utc),
            ))
            sign_bundle(tmp, key)
            _check_own_signature(tmp, key)
    return MergeResult(Path(out_dir), name, files, target, figures, quantization, key.key_id, key.development,
                       warnings)


def _check_own_signature(directory: Path, key: SigningKey) -> None:
    """The signature just made must verify with the signing key's public half (model-signing's verifier)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mahrem-merge-key-") as keys:
        public = Path(keys) / "signing.pub.pem"
        public.write_bytes(key.public_pem)
        check = check_signature(directory, public)
    if not check.valid:  # pragma: no cover - a signature made a moment ago verifies
        raise ReleaseRefused("the merged model's signature does not verify: " + "; ".join(check.problems))
