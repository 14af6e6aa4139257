"""The one result format of every benchmark: a row per operation, printed as a table and, with
--json, written for `make bench` (bench/run_all.py) to merge."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Result:
    operation: str
    ours_ms: float
    baseline_ms: float | None  # the raw baseline measured in the same run, if there is one
    baseline: str  # what that baseline is
    target: str  # as the issues state it
    met: bool | None  # None: nothing to judge (a figure for scale)

    @property
    def ratio(self) -> float | None:
        return self.ours_ms / self.baseline_ms if self.baseline_ms else None


def table(results: list[Result]) -> str:
    lines = [f"{'operation':50} {'ours ms':>10} {'raw ms':>9} {'ratio':>6}  {'target':22} met  (raw baseline)"]
    for r in results:
        raw = f"{r.baseline_ms:,.1f}" if r.baseline_ms else "—"
        ratio = f"{r.ratio:.2f}×" if r.ratio else ""
        met = {True: "yes", False: "NO", None: ""}[r.met]
        lines.append(f"{r.operation:50} {r.ours_ms:>10,.1f} {raw:>9} {ratio:>6}  {r.target:22} {met:4} {r.baseline}")
    return "\n".join(lines)


def write_json(path: str | Path, results: list[Result], **about) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({**about, "results": [asdict(r) | {"ratio": r.ratio} for r in results]}, indent=2))


def read_json(path: str | Path) -> list[Result]:
    rows = json.loads(Path(path).read_text())["results"]
    return [Result(**{k: v for k, v in row.items() if k != "ratio"}) for row in rows]
