"""``python -m pipeline.reports [DIR]``: write every report's JSON Schema (default ``docs/schemas``)."""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.reports.schemas import SCHEMA_DIR, write_schemas


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0].startswith("-")):
        print("usage: python -m pipeline.reports [DIR]   (default: docs/schemas)", file=sys.stderr)
        return 2
    for path in write_schemas(Path(args[0]) if args else SCHEMA_DIR):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
