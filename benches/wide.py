"""How `leadcal validate` grows with the number of columns: a leads table of ROWS rows and
1,000, 2,000 and 5,000 attribute columns (text, numbers and yes/no in turn), timed with
/usr/bin/time, each size run --repeat times; medians go to benches/RESULTS-WIDE.md. The target
(issue "Nothing silent", item 10): linear in the column count, 5,000 columns x 5,000 rows in
seconds.

    python3 benches/wide.py [--leadcal path/to/leadcal] [--baseline earlier/leadcal]

With --baseline, the two binaries run as interleaved pairs (A B A B ...).
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def default_binary():
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(Path(target) / "release" / "leadcal")


def make(dir_: Path, columns: int, rows: int):
    rng = random.Random(columns * 7919 + rows)
    dir_.mkdir(parents=True, exist_ok=True)
    names = [f"attr_{k:05d}" for k in range(columns)]
    with open(dir_ / "leads.csv", "w") as f:
        f.write("lead_id,created_at," + ",".join(names) + "\n")
        for i in range(rows):
            vals = []
            for k in range(columns):
                kind = k % 3
                if kind == 0:
                    vals.append(rng.choice(["DACH", "NA", "UKI", "APAC"]))
                elif kind == 1:
                    vals.append(str(rng.randint(1, 5000)))
                else:
                    vals.append(rng.choice(["true", "false", ""]))
            day = 1 + i % 28
            month = 1 + (i // 28) % 12
            f.write(f"{i + 1},2024-{month:02d}-{day:02d}," + ",".join(vals) + "\n")
    with open(dir_ / "outcomes.csv", "w") as f:
        f.write("lead_id,stage,reached_at\n")
        for i in range(0, rows, 10):
            f.write(f"{i + 1},won,2024-12-31\n")


def timed(binary, data):
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", binary, "validate", str(data)],
        capture_output=True,
        text=True,
    )
    if out.returncode not in (0,):
        sys.exit(f"{binary} validate {data} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    wall, rss = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leadcal", default=default_binary())
    ap.add_argument("--baseline", default=None)
    ap.add_argument("--columns", default="1000,2000,5000")
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "benches" / "RESULTS-WIDE.md"))
    a = ap.parse_args()
    lines = [
        "# `leadcal validate` on wide leads tables",
        "",
        f"`python3 benches/wide.py --rows {a.rows} --repeat {a.repeat}`"
        + (" --baseline ..." if a.baseline else "")
        + f"; medians of {a.repeat}, wall seconds and peak MiB from `/usr/bin/time`.",
        "",
    ]
    header = "| columns | rows | leadcal: wall s | peak MiB |"
    sep = "|---|---|---|---|"
    if a.baseline:
        header += " baseline: wall s | peak MiB |"
        sep += "---|---|"
    lines += [header, sep]
    with tempfile.TemporaryDirectory() as tmp:
        for c in [int(x) for x in a.columns.split(",")]:
            d = Path(tmp) / f"wide-{c}"
            make(d, c, a.rows)
            subprocess.run(["cat", str(d / "leads.csv")], stdout=subprocess.DEVNULL)
            new, old = [], []
            for _ in range(a.repeat):
                new.append(timed(a.leadcal, d))
                if a.baseline:
                    old.append(timed(a.baseline, d))
            med = lambda xs, k: statistics.median(x[k] for x in xs)
            row = f"| {c:,} | {a.rows:,} | {med(new, 0):.2f} | {med(new, 1):.0f} |"
            if a.baseline:
                row += f" {med(old, 0):.2f} | {med(old, 1):.0f} |"
            lines.append(row)
            print(row, flush=True)
    Path(a.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
