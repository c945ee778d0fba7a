"""Issue 4 benchmark: importing 15,000 contacts from CSV through the real server.

The time of one ``POST /v1/Contacts/Import`` (text/csv, 15,000 rows, every row a new
contact; then the same file again, every row an update) is compared, in one run, with
parsing the same CSV text with the standard library alone (``csv.DictReader``): the
floor any CSV import in Python stands on. Reported as a ratio; no target is set.

    python benchmarks/bench_import.py [--rows N] [--repeat N]
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import time

from _harness import free_port, mock_command, serve, timed_posts


def csv_text(rows: int) -> str:
    lines = ["phoneNumber,firstName,lastName,email,team,plan"]
    lines += [
        f"4477{i:08d},First{i},Last{i},user{i}@example.com,team{i % 13},{'gold' if i % 3 else ''}"
        for i in range(rows)
    ]
    return "\n".join(lines) + "\n"


def parse_with_stdlib(text: str) -> float:
    """Seconds ``csv.DictReader`` takes to read every row of ``text`` into dicts."""
    started = time.perf_counter()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    elapsed = time.perf_counter() - started
    assert rows, "no rows parsed"
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=15_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    text = csv_text(args.rows)
    body = text.encode()

    parse_with_stdlib(text)  # warm-up
    stdlib = statistics.median(parse_with_stdlib(text) for _ in range(args.repeat))

    port = free_port()
    with serve(mock_command(port, "--clock", "virtual"), port, "/_mock/health") as server:
        url = server.base_url + "/v1/Contacts/Import"
        timed_posts(url, body, {"X-API-Key": "warm-up", "Content-Type": "text/csv"}, 1)
        created = []
        updated = []
        for run in range(args.repeat):
            # A fresh account per run, so the first import of each creates every contact.
            headers = {"X-API-Key": f"bench-{run}", "Content-Type": "text/csv"}
            [create_seconds, update_seconds] = timed_posts(url, body, headers, 2)
            created.append(create_seconds)
            updated.append(update_seconds)
    create_ms = statistics.median(created) * 1000
    update_ms = statistics.median(updated) * 1000
    stdlib_ms = stdlib * 1000
    print(f"rows                         {args.rows:,} ({len(body) / 1024:.0f} KiB of CSV)")
    print(f"csv.DictReader alone         {stdlib_ms:8.1f} ms")
    print(f"import, all new (HTTP)       {create_ms:8.1f} ms   {create_ms / stdlib_ms:6.2f}x")
    print(f"import, all updates (HTTP)   {update_ms:8.1f} ms   {update_ms / stdlib_ms:6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
