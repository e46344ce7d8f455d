"""`mahrem redact`: the pipeline's anonymization for any file or text stream.

No catalog check, no canaries, no split: detection and the policy, record by record. A
JSONL file in the raw record format becomes JSONL; plain-text lines (stdin) become one
anonymized line each, a dropped record or an undecodable line a bracketed notice in its
place, so line *n* of the output always answers line *n* of the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.io import RawRecord, dumps, read_records


@dataclass
class Redacted:
    rows: list[str]
    dropped: int = 0
    quarantined: int = 0

    @property
    def text(self) -> str:
        return "\n".join(self.rows) + ("\n" if self.rows else "")


class Redactor:
    """The analyzer, key and policy, loaded once; :meth:`lines` and :meth:`file` use them."""

    def __init__(self, scan_params: Any, policy_file: Path, *, quiet_key: bool = False) -> None:
        from pipeline.keys import load_pseudonym_key
        from pipeline.policy import load_policy
        from pipeline.scan.analyzer import get_analyzer

        self.policy = load_policy(policy_file).policy
        self.key = load_pseudonym_key(quiet=quiet_key)
        recognizers = scan_params.recognizers if Path(scan_params.recognizers).is_dir() else None
        self.analyzer = get_analyzer(recognizers, scan_params.min_score)

    def _outcomes(self, records: list[RawRecord]) -> Iterator[Any]:
        from pipeline.anonymize.stage import anonymize_record
        from pipeline.scan.stage import detect_findings

        batch = [(r.id, list(r.fields())) for r in records]
        for record, found in zip(records, detect_findings(self.analyzer, self.key, batch)):
            yield anonymize_record(record, found, self.policy, self.key, special_allowed=False)

    def lines(self, raw_lines: Iterable[bytes]) -> Redacted:
        """Plain-text lines (bytes, decoded one by one) → one output row per input line."""
        texts: list[str | None] = []
        for raw in raw_lines:
            try:
                texts.append(raw.decode("utf-8").rstrip("\r\n"))
            except UnicodeDecodeError:
                texts.append(None)
        records = [RawRecord({"id": str(i), "text": t}, "<stdin>", i + 1) for i, t in enumerate(texts) if t is not None]
        outcomes = self._outcomes(records)
        result = Redacted(rows=[])
        for i, text in enumerate(texts):
            if text is None:
                result.quarantined += 1
                result.rows.append(f"[line {i + 1} quarantined: not valid UTF-8]")
                continue
            outcome = next(outcomes)
            if outcome.data is None:
                result.dropped += 1
                result.rows.append(f"[record dropped: {outcome.reason}]")
            else:
                result.rows.append(outcome.data["text"])
        return result

    def file(self, path: Path) -> Redacted:
        """A raw-record JSONL file → anonymized JSONL rows (dropped records left out, counted)."""
        result = Redacted(rows=[])

        def count(_entry) -> None:
            result.quarantined += 1

        for outcome in self._outcomes(list(read_records(path, count))):
            if outcome.data is None:
                result.dropped += 1
            else:
                result.rows.append(dumps(outcome.data))
        return result
