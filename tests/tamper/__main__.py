"""Run every attack of the tamper corpus on a fresh office and print how each was detected (make stress).

    .venv/bin/python -m tests.tamper [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from tests.tamper.attacks import ATTACKS, build_office, fresh_copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="audit-tamper-") as tmp:
        template = build_office(Path(tmp) / "template" / "office")
        for number, attack in enumerate(ATTACKS, 1):
            office = fresh_copy(template, Path(tmp) / f"attack-{number}")
            start = time.perf_counter()
            outcome = attack.run(office)
            results.append({"attack": attack.name, "class": attack.kind, "detected": outcome.detected,
                            "how": outcome.how, "seconds": round(time.perf_counter() - start, 2)})
            mark = "detected" if outcome.detected else "MISSED  "
            print(f"{mark}  {attack.kind:<20} {attack.name:<52} {outcome.how}", flush=True)
    missed = [r for r in results if not r["detected"]]
    print(f"\n{len(results) - len(missed)} of {len(results)} attacks detected")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    os._exit(1 if missed else 0)  # skip DuckDB's teardown report (see exit_skipping_teardown)


if __name__ == "__main__":
    main()
