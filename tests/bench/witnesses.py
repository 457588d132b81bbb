"""Benchmark: what independent oversight costs.

    .venv/bin/python -m tests.bench.witnesses --weeks 64 --rows 500 --entries 1000000 [--json out.json]

1. Proofs at `entries` log entries: the size of an inclusion proof (the middle entry) and of consistency proofs
   (from one entry fewer, and from half), and the time to make each from the leaves.
2. Weekly incident releases (tests.bench.weekly's), each ingested and published by an office with a signing key, in
   two offices run side by side: one with two witness processes on this machine (quorum 2), one with none. It
   reports publish's median time in each and the ratio: the cost of obtaining the cosignatures.
3. `audit verify` of all the witnessed office's packages as an outsider (office key, both witnesses' keys, quorum 2),
   in a process of its own, against verifying them with no witness keys.

Not a test: these machines are shared, so read the ratios measured in the same run, not single figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from tests.bench.incidents import DATASET, write_workspace
from tests.bench.weekly import week_file
from tests.witnesses import WitnessProcess, audit, write_settings


def proofs(entries: int) -> dict:
    from audit.log import merkle

    leaves = [merkle.leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(entries)]
    out = {"entries": entries}
    for name, make in (("inclusion of the middle entry", lambda: merkle.inclusion_proof(entries // 2, leaves)),
                       ("consistency from one entry fewer", lambda: merkle.consistency_proof(entries - 1, leaves)),
                       ("consistency from half", lambda: merkle.consistency_proof(entries // 2, leaves))):
        start = time.perf_counter()
        proof = make()
        out[name] = {"hashes": len(proof), "bytes": 32 * len(proof), "seconds": time.perf_counter() - start}
        print(f"| {entries:,} entries | {name} | {len(proof)} hashes, {32 * len(proof)} bytes | "
              f"{out[name]['seconds']:.2f} s to make |", flush=True)
    return out


def office(root: Path, witnesses: list[WitnessProcess] | None) -> Path:
    write_workspace(root)
    descriptor_path = root / "datapackages" / DATASET / "datapackage.yaml"
    descriptor = yaml.safe_load(descriptor_path.read_text())
    descriptor["window"] = {"field": "occurred"}
    descriptor_path.write_text(yaml.safe_dump(descriptor))
    assert audit("keygen", root / "keys" / "office.pem")[0] == 0
    if witnesses:
        write_settings(root, witnesses, quorum=len(witnesses))
    else:
        (root / "audit.yaml").write_text("signing_key: keys/office.pem\n")
    (root / "weapons.yaml").write_text(yaml.safe_dump({"version": 1, "notes": [
        {"id": "weapons", "columns": ["weapon"], "reason": "Late reports revised weapons", "approved_by": "bench"}]}))
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weeks", type=int, default=64)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from audit import pipeline
    from audit.workspace import Workspace

    print("| log | proof | size | time |\n|---|---|---|---|")
    results: dict = {"proofs": proofs(args.entries)}
    with tempfile.TemporaryDirectory(prefix="audit-bench-witnesses-") as tmp:
        base = Path(tmp)
        (base / "keys").mkdir()
        office_key = base / "witnessed" / "keys" / "office.pem.pub"
        witnessed = office(base / "witnessed", None)  # the key first: the witnesses trust it
        witnesses = [WitnessProcess(base / f"w{i}", f"bench.example/w{i}", office_key).start() for i in (1, 2)]
        try:
            write_settings(witnessed, witnesses, quorum=2)
            plain = office(base / "plain", None)
            times: dict[str, list[float]] = {"witnessed": [], "plain": []}
            for week in range(1, args.weeks + 1):
                path = week_file(base, week, args.rows)
                for name, root in (("plain", plain), ("witnessed", witnessed)):
                    workspace = Workspace.at(root)
                    notes = root / "weapons.yaml" if week > 1 else None
                    pipeline.ingest(workspace, DATASET, path, version=f"w{week:02d}", notes=notes)
                    start = time.perf_counter()
                    published = pipeline.publish(workspace, DATASET)
                    times[name].append(time.perf_counter() - start)
                    if published.path is None:
                        raise SystemExit(f"week {week} was not published in the {name} office")
            med = {k: statistics.median(v) for k, v in times.items()}
            results["publish_median_seconds"] = med
            print(f"\npublish, median of {args.weeks} weeks: {med['plain']:.3f} s with no witness, "
                  f"{med['witnessed']:.3f} s with two (x{med['witnessed'] / med['plain']:.2f}, "
                  f"+{(med['witnessed'] - med['plain']) * 1000:.0f} ms)")
            packages = sorted((witnessed / "published" / DATASET).glob("*/datapackage.json"))
            common = [a for p in packages for a in ("--package", str(p.parent))] + [
                "--public-key", str(witnessed / "keys" / "office.pem.pub")]
            keys = [a for w in witnesses for a in ("--witness-key", str(w.vkey))] + ["--quorum", "2"]
            timed = {}
            for name, extra in (("no witness keys", []), ("two witness keys, quorum 2", keys)):
                start = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "audit", "verify", *common, *extra], capture_output=True,
                                      text=True)
                timed[name] = time.perf_counter() - start
                if done.returncode != 0:
                    raise SystemExit(done.stdout[-2000:])
            results["verify_seconds"] = {"packages": len(packages), **timed}
            print(f"verify of {len(packages)} weekly packages as an outsider: "
                  + ", ".join(f"{k} {v:.1f} s" for k, v in timed.items()))
        finally:
            for w in witnesses:
                w.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
