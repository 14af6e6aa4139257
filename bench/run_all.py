"""`make bench`: every benchmark of the project, one table, and the same as JSON in var/bench/.

Each benchmark builds its PostgreSQL database once (by set-based SQL) and reuses it:
  tabs    blacklist_bench_10000000  10M numbers over 20 lists + 100K prefixes: tab pages per list, bulk actions
                                    over 1M rows, export of 1M
  import  blacklist_bench_import    1M numbers on two lists: a 50,000-row upload into a named list, and again;
                                    django-import-export on the same files; the import worker's peak RSS
  api     blacklist_bench_api       10M numbers over 20 lists, 100K prefixes, served by gunicorn: check, scrub
  audit   blacklist_bench_audit     1M numbers for review: bulk approve with and without audit events
  evidence blacklist_bench_evidence 10M numbers: the Reasons page, a number's evidence record and downloads
  report  blacklist_bench_report    10M numbers, 10M events: the compliance report per week and month
  expiry  blacklist_bench_expiry    2M numbers, 1M expired: the batched expiry task vs one statement
  registry blacklist_bench_registry 100M national registry numbers over 20 area codes: a 10M full list
                                    (first load, reload) vs raw COPY, a 1M change list, disk per 100M
  registry_api blacklist_bench_registry_api  99M national registry numbers over every US area code (1M in
                                     98 of them), 800K of ours: check and scrub with registry=1 beside without

`--scale 100M` (`make bench SCALE=100M`) runs instead the scale point of issue 17 on one database,
blacklist_bench_100000000, built once by bench_tabs.fill (30–60 minutes): the tab pages of three
lists, the API's check and scrub (bench_api.py at the same rows) and its disk use and build time.
`--measure-only` never builds: it measures a database built before, or stops.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import read_json, table  # noqa: E402

BENCHMARKS = {
    "tabs": ["bench/bench_tabs.py"],
    "import": ["bench/bench_import.py"],
    "api": ["bench/bench_api.py"],
    "audit": ["bench/bench_audit.py"],
    "evidence": ["bench/bench_evidence.py"],
    "report": ["bench/bench_report.py"],
    "expiry": ["bench/bench_expiry.py"],
    "registry": ["bench/bench_registry.py"],
    "registry_api": ["bench/bench_registry_api.py"],
}

SCALES = {"100M": 100_000_000}


def scale_benchmarks(rows: int, measure_only: bool) -> dict[str, list[str]]:
    """The benchmarks of one database of `rows` numbers: pages (no bulk actions or export: they
    change 1M rows of a given shape), the API, disk use and build time."""
    build = ["--measure-only"] if measure_only else []
    return {  # the build first (by bench_api, as bench_tabs would), then the quickest first
        "api": ["bench/bench_api.py", "--rows", str(rows), *build],
        "disk": ["bench/bench_disk.py", "--database", f"blacklist_bench_{rows}"],
        "tabs": ["bench/bench_tabs.py", "--rows", str(rows), "--pages-only",
                 "--lists", "Internal", "Bench list 02", "Bench list 20", *build],
    }


def machine() -> str:
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} CPUs ({cpu}), {memory_gb:.0f} GB RAM, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=SCALES, help="the scale point instead: one database of this many numbers")
    parser.add_argument("--measure-only", action="store_true", help="with --scale: never build, measure only")
    args = parser.parse_args()
    benchmarks = scale_benchmarks(SCALES[args.scale], args.measure_only) if args.scale else BENCHMARKS
    suffix = f"_{args.scale}" if args.scale else ""
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for name, command in benchmarks.items():
        print(f"=== {name} ===", flush=True)
        result_file = out / f"{name}{suffix}.json"
        result_file.unlink(missing_ok=True)
        # A missed target is a row of the table, not a stop; a benchmark that wrote nothing is.
        subprocess.run([sys.executable, *command, "--json", str(result_file)], cwd=ROOT)
        if not result_file.exists():
            raise SystemExit(f"The {name} benchmark failed: see its output above.")
        results += read_json(result_file)
    print(f"\nAll benchmarks{f' at {args.scale} numbers' if args.scale else ''} —"
          f" {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} — {machine()}; load average"
          f" {' '.join(f'{load:.2f}' for load in os.getloadavg())}\n")
    print(table(results))
    summary = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
               "results": [json.loads((out / f"{name}{suffix}.json").read_text()) for name in benchmarks]}
    (out / f"results{suffix}.json").write_text(json.dumps(summary, indent=2))
    print(f"\n(also written to {out / f'results{suffix}.json'})")


if __name__ == "__main__":
    main()
