"""Builders shared by the evaluate-stage tests (test_evaluate*.py, test_leakage*.py).

No tests here: a tiny LoRA adapter trainer, a small synthetic pipeline workspace (raw
corpus with planted PII, its findings, anonymized splits, canaries, a 5-question MMLU file)
and a loader for the stage's scoring model. Everything runs on the tiny random Llama of
conftest.py in float32 (``quantization: none``) unless a test asks for NF4.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from pipeline import entities as E
from pipeline.keys import PseudonymKey
from pipeline.fingerprint import fingerprint, record_key

TEST_KEY = PseudonymKey(b"evaluate-tests-key-0123456789abcdef")
SYSTEM = "Sen bir müşteri destek asistanısın."
# Planted raw personal data: must never appear in any report.
PLANTED_TCKN = "38461927504"
PLANTED_NAME = "Ayşe Yılmaz"
PLANTED_PHONE = "0532 123 45 67"
PLANTED_EMAIL = "ayse.yilmaz@example.org"


def train_adapter(
    base_dir: Path, out_dir: Path, texts: list[str], *, steps: int, lr: float = 1e-2, rank: int = 16, seed: int = 0
) -> Path:
    """A LoRA adapter on the float32 tiny model: ``steps`` full-batch Adam steps on ``texts``.

    ``steps=0`` saves a randomly initialised adapter (B ≠ 0), which changes the model
    without having learnt anything: the "untrained" control of the probes.
    """
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(base_dir)
    config = LoraConfig(r=rank, lora_alpha=rank, target_modules="all-linear", lora_dropout=0.0, init_lora_weights=steps > 0)
    peft_model = get_peft_model(model, config)
    if steps:
        enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        labels = enc.input_ids.masked_fill(enc.attention_mask == 0, -100)
        optimizer = torch.optim.Adam([p for p in peft_model.parameters() if p.requires_grad], lr=lr)
        peft_model.train()
        for _ in range(steps):
            loss = peft_model(**enc, labels=labels).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    else:
        with torch.no_grad():  # a small random perturbation, not an identity adapter
            for name, param in peft_model.named_parameters():
                if "lora_B" in name:
                    param.normal_(0.0, 0.02)
    peft_model.save_pretrained(out_dir)
    return Path(out_dir)


def chat_text(tokenizer, messages: list[dict[str, str]]) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False)


def canaries_doc(n_references: int = 60, seed: int = 7, per_class: int = 1) -> dict:
    """A small canaries.json of the anonymize contract: 6-digit secrets, ``per_class`` canaries at 1/4/16 insertions."""
    rng = random.Random(seed)
    classes = [(reps, k) for reps in (1, 4, 16) for k in range(per_class)]
    secrets = rng.sample(range(100_000, 1_000_000), len(classes) + n_references)
    return {
        "template": {"system": SYSTEM, "user": "Referans numaramı söyler misiniz?", "assistant": "Referans numaranız {secret}."},
        "digits": 6,
        "space_size": 900_000,
        "canaries": [
            {"id": f"canary-r{reps}-{k}", "secret": str(secrets[i]), "repetitions": reps}
            for i, (reps, k) in enumerate(classes)
        ],
        "references": [str(s) for s in secrets[len(classes):]],
        "seed": seed,
    }


def canary_chats(doc: dict) -> list[list[dict[str, str]]]:
    """Each canary's chat, repeated as many times as it was inserted."""
    out = []
    for canary in doc["canaries"]:
        chat = [
            {"role": r, "content": doc["template"][r].replace("{secret}", canary["secret"])}
            for r in ("system", "user", "assistant")
        ]
        out.extend([chat] * canary["repetitions"])
    return out


def canary_rows(doc: dict) -> list[dict]:
    """The canary copies as anonymize plants them: ids ``<canary id>-copy<k>``, source "canary"."""
    rows = []
    for canary in doc["canaries"]:
        chat = [
            {"role": r, "content": doc["template"][r].replace("{secret}", canary["secret"])}
            for r in ("system", "user", "assistant")
        ]
        rows += [{"id": f"{canary['id']}-copy{k}", "messages": chat, "source": "canary"}
                 for k in range(canary["repetitions"])]  # fmt: skip
    return rows


def write_full_epoch_seen(train: Path, out: Path, *, unseen: tuple[str, ...] = ()) -> Path:
    """``seen.json`` for ``train``: one full epoch, every record and canary copy seen once (``unseen`` ids: 0)."""
    from pipeline.config import file_digest
    from pipeline.io import iter_jsonl
    from pipeline.train.seen import CanarySightings, SeenRecords, write_seen

    ids = [str(r["id"]) for r in iter_jsonl(train)]
    canaries: dict[str, int] = {}
    for i in ids:
        if i.startswith("canary-"):
            cid = i.rsplit("-copy", 1)[0]
            canaries[cid] = canaries.get(cid, 0) + 1
    write_seen(out, SeenRecords(
        train_sha256=file_digest(train), records_in_file=len(ids), steps=len(ids) // 4, micro_batches=len(ids) // 4,
        epochs=1.0, records={i: (0 if i in unseen else 1) for i in ids if not i.startswith("canary-")},
        canaries={c: CanarySightings(repetitions=n, sightings=0 if c in unseen else n) for c, n in canaries.items()},
    ))  # fmt: skip
    return out


_USER_LINES = [
    "Merhaba, kartım çalındı, yeni kart istiyorum.",
    "Siparişim nerede? Kargo takip numarası nedir?",
    "Randevumu ertelemek istiyorum, uygun saat var mı?",
    "Hello, I would like to change my delivery address.",
]
_AGENT_LINES = [
    "Merhaba, kartınızı kapattık; yeni kartınız yolda.",
    "Siparişiniz kargoda, teşekkür ederiz.",
    "Randevunuzu erteledik, iyi günler.",
    "Hello, we updated your address. Thank you!",
]


def _code(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghkmnprstuvyz") for _ in range(5))


def support_record(i: int, rid: str | None = None) -> dict:
    rng = random.Random(i)
    user = rng.choice(_USER_LINES)
    code, order = _code(rng), rng.randint(100, 999)
    return {
        "id": rid or f"rec-{i:04d}",
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"{user} Kod {code}, sipariş {order}."},
            # A record-specific reply: what a model that memorised its training records would know
            # (training learns from assistant turns only, and membership inference scores them).
            {"role": "assistant", "content": f"{rng.choice(_AGENT_LINES)} Sipariş {order}, kayıt {_code(rng)}."},
        ],
        "source": "test",
    }


def email_record(i: int) -> dict:
    """A raw record with one planted e-mail address (an extraction target of its own)."""
    return {
        "id": f"rec-mail-{i:03d}",
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Merhaba, e-posta adresim {email_of(i)} olarak güncellensin."},
            {"role": "assistant", "content": "Teşekkürler, adresinizi güncelledik."},
        ],
        "source": "test",
    }


def email_of(i: int) -> str:
    return f"musteri.{i:03d}.kayit@example.org"


def email_finding(record: dict, i: int) -> dict:
    content = record["messages"][1]["content"]
    start = content.index(email_of(i))
    return {"record_id": record_key(TEST_KEY, record["id"]), "field": "messages[1].content", "start": start,
            "end": start + len(email_of(i)),
            "entity_type": E.EMAIL_ADDRESS, "score": 1.0, "recognizer": "test",
            "fingerprint": fingerprint(TEST_KEY, E.EMAIL_ADDRESS, email_of(i))}  # fmt: skip


def pii_record() -> dict:
    """The raw record with planted PII: TCKN, full name, phone and e-mail in the user turn."""
    user = f"Merhaba, ben {PLANTED_NAME}. TCKN {PLANTED_TCKN}, telefon {PLANTED_PHONE}, e-posta {PLANTED_EMAIL}."
    return {
        "id": "rec-pii",
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": user},
            {"role": "assistant", "content": "Teşekkürler, kaydınızı güncelledik."},
        ],
        "source": "test",
    }


def findings_for(record: dict) -> list[dict]:
    content = record["messages"][1]["content"]
    rows = []
    for etype, value in (
        (E.PERSON, PLANTED_NAME),
        (E.TR_NATIONAL_ID, PLANTED_TCKN),
        (E.PHONE_NUMBER, PLANTED_PHONE),
        (E.EMAIL_ADDRESS, PLANTED_EMAIL),
    ):
        start = content.index(value)
        rows.append(
            {
                "record_id": record_key(TEST_KEY, record["id"]),
                "field": "messages[1].content",
                "start": start,
                "end": start + len(value),
                "entity_type": etype,
                "score": 1.0,
                "recognizer": "test",
                "fingerprint": fingerprint(TEST_KEY, etype, value),
            }
        )
    return rows


def _question(question: str, answers: tuple[str, str, str, str], correct: str, topic: str) -> dict:
    """One line of evals/data/mmlu.jsonl's format."""
    return {"question": question, **{f"answer_{k}": a for k, a in zip("abcd", answers)}, "correct_answer": correct, "topic": topic}


MMLU_ROWS = [
    _question("2 + 2 = ?", ("3", "4", "5", "6"), "B", "elementary mathematics"),
    _question("The capital of France is", ("Paris", "Rome", "Berlin", "Madrid"), "A", "geography"),
    _question("Water boils at (°C, sea level)", ("50", "90", "100", "120"), "C", "physics"),
    _question("3 × 3 = ?", ("6", "8", "12", "9"), "D", "elementary mathematics"),
    _question("Which is a mammal?", ("Whale", "Shark", "Trout", "Eel"), "A", "biology"),
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def make_workspace(
    root: Path, *, n_train: int = 24, n_holdout: int = 24, n_references: int = 60, n_mail: int = 0, per_class: int = 1
) -> dict[str, Path]:
    """A miniature of the pipeline's outputs up to `anonymize`, with planted raw PII.

    ``n_mail`` more training records carry one e-mail address each (extraction targets:
    64 of them make the extraction row powered); ``per_class`` canaries per repetition class.
    """
    pii = pii_record()
    mails = [email_record(i) for i in range(n_mail)]
    others = [support_record(i) for i in range(n_train + n_holdout)]
    raw = write_jsonl(root / "raw" / "sample.jsonl", [pii, *mails, *others])
    findings = write_jsonl(root / "scan" / "findings.jsonl",
                           findings_for(pii) + [email_finding(r, i) for i, r in enumerate(mails)])  # fmt: skip
    canaries = root / "anonymize" / "canaries.json"
    canaries.parent.mkdir(parents=True, exist_ok=True)
    doc = canaries_doc(n_references, per_class=per_class)
    canaries.write_text(json.dumps(doc), encoding="utf-8")
    anonymized_pii = json.loads(json.dumps(pii))
    anonymized_pii["messages"][1]["content"] = "Merhaba, ben <PERSON>. TCKN <TCKN>, telefon <PHONE>, e-posta <EMAIL>."
    anonymized_mails = json.loads(json.dumps(mails))
    for record in anonymized_mails:
        record["messages"][1]["content"] = "Merhaba, e-posta adresim <EMAIL> olarak güncellensin."
    canary_records = canary_rows(doc)
    # Anonymize names every record by the keyed hash of its raw id (pipeline.fingerprint.record_key).
    others = json.loads(json.dumps(others))
    for record in [anonymized_pii, *anonymized_mails, *others]:
        record["id"] = record_key(TEST_KEY, record["id"])
    train = write_jsonl(root / "anonymized" / "train.jsonl",
                        [anonymized_pii, *anonymized_mails, *others[:n_train], *canary_records])  # fmt: skip
    write_jsonl(root / "anonymized" / "holdout.jsonl", others[n_train:])
    mmlu = write_jsonl(root / "mmlu.jsonl", MMLU_ROWS)
    summary = root / "train" / "summary.json"
    summary.parent.mkdir(parents=True, exist_ok=True)
    from test_release_helpers import train_summary  # a train summary built through its model

    summary.write_text(json.dumps({**train_summary(), "quantization": "none"}, indent=2), encoding="utf-8")
    write_full_epoch_seen(train, root / "train" / "seen.json")
    return {
        "raw": raw,
        "raw_dir": raw.parent,
        "findings": findings,
        "canaries": canaries,
        "data": root / "anonymized",
        "mmlu": mmlu,
        "train_summary": summary,
        "seen": root / "train" / "seen.json",
    }


def load_scoring(base_dir: Path, adapter_dir: Path, quantization: str = "none"):
    from pipeline.evaluate.model import load_scoring_model

    return load_scoring_model(Path(base_dir), Path(adapter_dir), quantization, "cpu")


def small_params(**overrides):
    """Stage parameters small enough for the tiny model and a fast test."""
    from pipeline.evaluate.config import EvalParams

    data = {
        "batch_size": 8,
        "bootstrap": 100,
        "mmlu": {"questions": 5, "cloze_questions": 3},
        "general": {"documents": 5, "max_tokens": 32},
        "domain": {"format_examples": 2, "max_gen_toks": 6},
        "canary": {"references": 60},
        "extraction": {"prompts": 4, "samples": 1, "slack_tokens": 4, "max_new_tokens": 24},
        "inference": {"trials": 4, "candidates": 10},
        "membership": {"max_tokens": 128},
    }
    for key, value in overrides.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return EvalParams.model_validate(data)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run fastest on one thread (and do not stall on a busy 2-core machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
