"""The report pages a person opens render in headless Chromium (issue #15, item 8).

The scan audit page, the anonymization page and the evaluation page are made by the real
stage functions from small inputs, opened from disk in Debian's Chromium through Playwright,
and each must show: no console error and no page error; no request but the file itself
(everything else is recorded and aborted, so the test never reaches a network); every chart
present, laid out with a non-zero box and painted in colour; a screenshot that is not blank.

Chromium: ``make test`` installs it (apt, as root) when it is missing. Here the module does
the same when it runs as root with apt-get, and skips — saying how to install it — only
when Chromium is absent and cannot be installed.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from pipeline.keys import PseudonymKey

REPO = Path(__file__).resolve().parents[1]
KEY = PseudonymKey(b"test-pseudonym-key-0123456789abcdef")
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
INSTALL_HINT = (
    "install it with `sudo apt-get install --no-install-recommends chromium` (Debian/Ubuntu), or run "
    "`make test`, which installs it when it runs as root"
)


# --- fixtures: real stage outputs from small inputs --------------------------------------


def make_scan_and_anonymize(root: Path, n_records: int = 60) -> dict[str, Path]:
    """Scan and anonymize a small sample corpus (plus two unreadable lines) with the real stage
    functions; returns the paths of the raw file, its gold labels and both report folders."""
    from pipeline.config import file_digest
    from pipeline.scan.analyzer import get_analyzer
    from pipeline.anonymize.stage import AnonymizeInput, anonymize_dataset
    from pipeline.policy import load_policy
    from pipeline.scan.stage import InputFile, ScanConfig, scan_files
    from pipeline.sample import SampleConfig, write_sample

    raw_dir = root / "data" / "raw"
    raw_dir.mkdir(parents=True)
    raw, labels = raw_dir / "sample.jsonl", raw_dir / "sample.labels.jsonl"
    write_sample(raw, labels, SampleConfig(seed=20241129, n_records=n_records))
    with raw.open("a", encoding="utf-8") as handle:  # two lines for the quarantine tables
        handle.write('{"id": "broken", "messages": \n["not a record"]\n')
    policy_file = REPO / "policies" / "kvkk.yaml"
    recognizers = REPO / "policies" / "recognizers"
    scan_dir, anonymize_dir = root / "reports" / "scan", root / "reports" / "anonymize"
    scan_files(
        [InputFile(raw, "sample")],
        scan_dir,
        ScanConfig(workers=1, max_quarantine_ratio=0.5, recognizer_dir=recognizers),
        KEY,
        catalog_digest=file_digest(REPO / "policies" / "sources.yaml"),
        policy_digests={"policies/kvkk.yaml": file_digest(policy_file)},
    )
    anonymize_dataset(
        [AnonymizeInput(raw, "sample", False)],
        scan_dir / "findings.jsonl",
        root / "data" / "anonymized",
        anonymize_dir,
        load_policy(policy_file),
        KEY,
        get_analyzer(str(recognizers), 0.5).analyze,
    )
    return {"raw": raw, "labels": labels, "scan": scan_dir, "anonymize": anonymize_dir}


def make_evaluate_reports(out_dir: Path) -> dict[str, Path]:
    """benchmarks.json, leakage.json and leakage_details.json as the evaluate stage writes them,
    built the way the release tests build them (pipeline.evaluate's own statistics on simulated
    per-item scores, the default run's sizes), plus the tables the page shows per canary and type."""
    from test_release_helpers import CANARIES, REFERENCES, benchmarks, leakage

    from pipeline.evaluate.leakage import auc_score, exposure_from_rank, roc_points

    bench = benchmarks(domain_shift=-0.4)
    bench["wall_s_by_task"] = {"mahrem_mmlu_letter": {"base": 26.8, "adapter": 21.6},
                               "mahrem_support_format": {"base": 8.9, "adapter": 10.0},
                               "general_bpb": {"base+adapter": 28.9}}  # fmt: skip
    leak = leakage()
    leak["canary"].update(max_exposure=math.log2(REFERENCES + 1), space_size=10**9, scored="assistant turn")
    leak["extraction"].update(max_new_tokens=24, samples_per_prompt=3)
    leak["inference"].update(candidates=100)
    rng = np.random.default_rng(5)
    members, nonmembers = rng.normal(0.3, 1.0, 206), rng.normal(0.0, 1.0, 200)
    leak["membership"].update(
        auc={"loss_ratio": auc_score(members, nonmembers), "min_k_pp": auc_score(members[::-1] * 0.5, nonmembers)},
        window_tokens=192, ineligible={"members": 0, "nonmembers": 0},
    )  # fmt: skip
    leak["wall_s_by_probe"] = {"canary": 80.2, "extraction": 36.9, "inference": 110.5, "membership": 324.0}
    canaries = []
    for reps in ("1", "4", "8"):
        for k in range(CANARIES):
            base_rank, adapter_rank = int(rng.integers(1, REFERENCES + 1)), int(rng.integers(1, REFERENCES // int(reps) + 1))
            canaries.append({
                "id": f"canary-r{reps}-{k}", "repetitions": int(reps), "sightings": int(reps),
                "base_rank": base_rank, "adapter_rank": adapter_rank,
                "base_exposure": exposure_from_rank(base_rank, REFERENCES),
                "adapter_exposure": exposure_from_rank(adapter_rank, REFERENCES),
            })  # fmt: skip
    types = ("PERSON", "PHONE_NUMBER", "TR_NATIONAL_ID", "EMAIL_ADDRESS", "IBAN_CODE")
    details = {
        "canary": {"canaries": canaries},
        "extraction": {"by_type": {t: {"prompts": 13, "base_hits": 0, "adapter_hits": 0, "adapter_only_hits": 0}
                                   for t in types}},
        "inference": {"by_type": {t: {"trials": 2, "chance": 0.01, "base_top1": 0.0, "adapter_top1": 0.0}
                                  for t in types}},
        "membership": {"roc": roc_points(members, nonmembers)},
    }  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, data in (("benchmarks", bench), ("leakage", leak), ("leakage_details", details)):
        paths[name] = out_dir / f"{name}.json"
        paths[name].write_text(json.dumps(data, indent=2), encoding="utf-8")
    return paths


def render_evaluate_page(out_dir: Path) -> Path:
    from pipeline.evaluate.report import render_report

    paths = make_evaluate_reports(out_dir)
    read = {name: json.loads(path.read_text(encoding="utf-8")) for name, path in paths.items()}
    page = out_dir / "report.html"
    page.write_text(render_report(read["benchmarks"], read["leakage"], read["leakage_details"]), encoding="utf-8")
    return page


@pytest.fixture(scope="module")
def stages(tmp_path_factory) -> dict[str, Path]:
    return make_scan_and_anonymize(tmp_path_factory.mktemp("html-stages"))


@pytest.fixture(scope="module")
def evaluate_page(tmp_path_factory) -> Path:
    return render_evaluate_page(tmp_path_factory.mktemp("html-eval") / "reports" / "eval")


# --- the browser ---------------------------------------------------------------------------


def find_chromium() -> str | None:
    for candidate in (*CHROMIUM_PATHS, shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def chromium_or_skip() -> str:
    """Chromium's path; installs it with apt when missing and running as root; else skips."""
    found = find_chromium()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip(f"Chromium is not installed and this user cannot install it (needs root and apt-get): {INSTALL_HINT}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:  # a stale package list: refresh it once
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True, timeout=600)
        done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    found = find_chromium()
    if not found:
        pytest.skip(f"Chromium is not installed and `{' '.join(install)}` failed "
                    f"({done.stderr.strip().splitlines()[-1:] or done.returncode}): {INSTALL_HINT}")  # fmt: skip
    return found


@pytest.fixture(scope="module")
def browser():
    executable = chromium_or_skip()
    from playwright import sync_api  # a dev dependency (`make install`): missing means a broken install, not a skip
    with sync_api.sync_playwright() as playwright:
        # Playwright's own browser download is not needed: Debian's Chromium is driven directly.
        chromium = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield chromium
        chromium.close()


# --- PNG, decoded by hand (zlib + the five scanline filters; no imaging library needed) ------


def decode_png(data: bytes) -> np.ndarray:
    """An 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) as a (height, width, 3) array."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    rows = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=start + 1)
        if kind == 0:
            current = line.copy()
        elif kind == 1:  # Sub: a running sum per channel, modulo 256
            current = np.cumsum(line.reshape(width, bpp), axis=0, dtype=np.uint8).reshape(stride)
        elif kind == 2:  # Up
            current = line + previous
        else:  # Average or Paeth: each byte depends on the one reconstructed before it
            out, up, cur = bytearray(stride), previous.tobytes(), line.tobytes()
            for i in range(stride):
                left = out[i - bpp] if i >= bpp else 0
                if kind == 3:
                    out[i] = (cur[i] + ((left + up[i]) >> 1)) & 0xFF
                else:
                    upleft = up[i - bpp] if i >= bpp else 0
                    p = left + up[i] - upleft
                    pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - upleft)
                    pred = left if pa <= pb and pa <= pc else (up[i] if pb <= pc else upleft)
                    out[i] = (cur[i] + pred) & 0xFF
            current = np.frombuffer(bytes(out), dtype=np.uint8)
        rows[y] = current
        previous = current
    return rows.reshape(height, width, bpp)[:, :, :3]


def pixel_stats(png: bytes) -> dict[str, float]:
    pixels = decode_png(png).reshape(-1, 3).astype(np.int32)
    packed = (pixels[:, 0] << 16) | (pixels[:, 1] << 8) | pixels[:, 2]
    values, counts = np.unique(packed, return_counts=True)
    colourful = (pixels.max(axis=1) - pixels.min(axis=1)) > 60  # clearly not grey: a chart colour
    return {
        "colours": int(len(values)),
        "not_background": 1.0 - counts.max() / len(packed),
        "colourful": float(colourful.mean()),
    }


def test_png_decoder_reads_every_filter():
    """The hand decoder against a PNG whose rows use all five filters (built here)."""
    rng = np.random.default_rng(0)
    width, height, bpp = 7, 5, 3
    image = rng.integers(0, 256, size=(height, width * bpp), dtype=np.int64)

    def paeth(a, b, c):
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        return a if pa <= pb and pa <= pc else (b if pb <= pc else c)

    raw = bytearray()
    for y in range(height):
        kind = y % 5
        raw.append(kind)
        for i in range(width * bpp):
            x, a = image[y, i], image[y, i - bpp] if i >= bpp else 0
            b, c = (image[y - 1, i] if y else 0), (image[y - 1, i - bpp] if y and i >= bpp else 0)
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
            raw.append(int(x - pred) & 0xFF)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))  # fmt: skip
    assert (decode_png(png) == image.reshape(height, width, bpp)).all()


# --- the check ------------------------------------------------------------------------------


def check_page(browser, page_file: Path, *, min_charts: int) -> dict:
    """Open ``page_file`` and assert it renders cleanly; returns what was seen, for more checks."""
    url = page_file.resolve().as_uri()
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    requests: list[str] = []
    problems: list[str] = []
    # Record every request and abort all but the page itself: nothing may be fetched, and a
    # test must never reach a network if a page tried.
    context.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    try:
        response = page.goto(url, wait_until="load")
        assert response is None or response.ok
        page.wait_for_timeout(100)  # let late console messages (CSP reports) arrive
        assert problems == [], problems
        assert requests == [url], f"the page fetched more than itself: {requests}"
        assert page.locator("script").count() == 0, "the pages need no JavaScript"

        charts = page.locator("svg.chart")
        assert charts.count() >= min_charts, f"{charts.count()} charts, expected at least {min_charts}"
        for i in range(charts.count()):
            chart = charts.nth(i)
            name = chart.get_attribute("aria-label")
            chart.scroll_into_view_if_needed()
            box = chart.bounding_box()
            assert chart.is_visible() and box and box["width"] > 50 and box["height"] > 10, (name, box)
            marks = chart.locator("rect, polyline, circle")
            assert marks.count() > 0, name
            assert any((b := marks.nth(j).bounding_box()) and b["width"] > 0 and b["height"] > 0
                       for j in range(marks.count())), f"{name}: no mark with a visible size"  # fmt: skip
            stats = pixel_stats(chart.screenshot())
            assert stats["colours"] >= 3 and stats["colourful"] > 0.002, (name, stats)

        page.evaluate("window.scrollTo(0, 0)")
        shot = pixel_stats(page.screenshot())
        assert shot["colours"] > 30 and shot["not_background"] > 0.05, shot
        return {"text": page.inner_text("body"), "html": page.content(), "charts": charts.count(), "screenshot": shot}
    finally:
        context.close()


def _label_values(labels: Path) -> set[str]:
    values = set()
    for line in labels.open(encoding="utf-8"):
        record = json.loads(line)
        values |= {span["value"] for span in record["pii"] + record["special"] if len(span["value"]) >= 4}
    return values


def _leaks(values: set[str], text: str) -> list[str]:
    return [v for v in values if re.search(r"(?<!\w)" + re.escape(v) + r"(?!\w)", text)]


def test_scan_page_renders_in_chromium(browser, stages):
    seen = check_page(browser, stages["scan"] / "report.html", min_charts=4)
    summary = json.loads((stages["scan"] / "summary.json").read_text(encoding="utf-8"))
    assert f"{summary['findings']:,}" in seen["text"] and "Quarantined lines" in seen["text"]
    assert _leaks(_label_values(stages["labels"]), seen["html"]) == []


def test_anonymize_page_renders_in_chromium_with_counts_only(browser, stages):
    page_file = stages["anonymize"] / "report.html"
    seen = check_page(browser, page_file, min_charts=5)
    summary = json.loads((stages["anonymize"] / "summary.json").read_text(encoding="utf-8"))
    text = seen["text"]
    for heading in ("Every input line, accounted for", "What was done, by entity type", "Dropped records, by reason",
                    "Residual re-scan", "Training data: splits and canaries"):  # fmt: skip
        assert heading in text
    assert "The counts add up" in text and summary["accounted"] is True
    for key in ("kept", "transformed", "dropped", "quarantined", "train", "holdout", "canaries"):
        assert f"{summary[key]:,}" in text, key
    for entity in summary["actions"]:
        assert entity in text
    # Never a value, a record id or a line of text.
    html = page_file.read_text(encoding="utf-8")
    assert _leaks(_label_values(stages["labels"]), html) == []
    ids = [json.loads(line)["record_id"] for line in (stages["anonymize"] / "log.jsonl").open(encoding="utf-8")]
    assert ids and [i for i in ids if re.search(r"(?<![\w-])" + re.escape(i) + r"(?![\w-])", html)] == []


def test_evaluate_page_renders_in_chromium(browser, evaluate_page):
    seen = check_page(browser, evaluate_page, min_charts=2)
    assert "Membership inference" in seen["text"] and "Canary exposure" in seen["text"]


def test_anonymize_page_never_shows_the_residual_record_ids():
    """residual.json names the records a failed re-scan found (ids only); the page shows counts."""
    from pipeline.anonymize.report import render_anonymize_report

    summary = {"lines": 3, "records": 3, "quarantined": 0, "kept": 1, "transformed": 1, "dropped": 1, "accounted": True,
               "dropped_by_reason": {"special_category": 1}, "actions": {"PERSON": {"pseudonymize": 2}},
               "residual_blocked_findings": 1, "train": 1, "holdout": 1, "canaries": 0, "canary_records": 0,
               "policy": "kvkk <b>", "erasure": {"requests": 0, "records_dropped": 0, "sha256": None}}  # fmt: skip
    residual = {"blocked_findings": 1, "by_entity_type": {"TR_NATIONAL_ID": 1},
                "record_ids": {"TR_NATIONAL_ID": ["crm-7731-secret-id"]}, "blocking_types": ["TR_NATIONAL_ID"]}  # fmt: skip
    html = render_anonymize_report(summary, residual)
    assert "crm-7731-secret-id" not in html
    assert "kvkk &lt;b&gt;" in html and "kvkk <b>" not in html  # autoescaped
    assert "FAIL" in html and "TR_NATIONAL_ID" in html


@pytest.mark.slow
def test_evaluate_page_of_a_real_evaluate_run_renders(browser, tiny_model_dir, tmp_path, monkeypatch):
    """The page of the real evaluate stage (tiny model; lm-eval and every probe) in Chromium."""
    from test_evaluate import _stage  # the evaluate tests' own call of the stage, whatever its arguments
    from test_evaluate_helpers import make_workspace, train_adapter

    workspace = make_workspace(tmp_path / "ws")
    adapter = train_adapter(tiny_model_dir, tmp_path / "adapter", [], steps=0)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "reports" / "eval"
    _stage(tiny_model_dir, adapter, workspace, out)
    check_page(browser, out / "report.html", min_charts=2)
