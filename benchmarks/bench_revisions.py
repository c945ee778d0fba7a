"""Instruction counts of two revisions of the package on the same in-process workload.

Runs ``workload_inprocess.py`` under ``valgrind --tool=callgrind`` with ``PYTHONPATH``
pointing at each revision's checkout, part by part, and prints the instructions each
part adds over start-up (import, app, lifespan) and the ratio new/old. Instruction
counts do not depend on the machine's load, so they compare revisions where a timed
benchmark on a busy 2-core machine cannot (they do not see cache misses or system calls:
read them beside the timed benchmarks, not instead of them).

    python benchmarks/bench_revisions.py OLD_CHECKOUT NEW_CHECKOUT
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = ("none", "single", "bulk", "advance")


def instructions(checkout: Path, part: str) -> int:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        env = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONHASHSEED": "0"}
        result = subprocess.run(
            [
                "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                sys.executable, str(HERE / "workload_inprocess.py"), part,
            ],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        found = re.search(r"Collected : (\d+)", result.stderr)
        if found is None:
            raise RuntimeError(result.stderr[-2000:])
        return int(found.group(1))


def main() -> int:
    old, new = (Path(arg).resolve() for arg in sys.argv[1:3])
    counts = {rev: {part: instructions(path, part) for part in PARTS} for rev, path in
              (("old", old), ("new", new))}  # fmt: skip
    print(f"{'part':<10}{'old (M instr)':>16}{'new (M instr)':>16}{'new/old':>10}")
    for part in PARTS[1:]:
        o = counts["old"][part] - counts["old"]["none"]
        n = counts["new"][part] - counts["new"]["none"]
        print(f"{part:<10}{o / 1e6:>16.1f}{n / 1e6:>16.1f}{n / o:>10.3f}")
    o, n = counts["old"]["none"], counts["new"]["none"]
    print(f"{'start-up':<10}{o / 1e6:>16.1f}{n / 1e6:>16.1f}{n / o:>10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
