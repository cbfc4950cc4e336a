"""Loading cost of an export shape against the same data in canonical CSV, at 1M leads.

Writes a Maven-shaped pipeline (`sales_pipeline.csv`: 1M leads plus 6 % Prospecting rows that
are not leads, a stage column and a close date, `close_value`) with its `accounts.csv` (2,000
companies) and a `dataset.toml` that reads it as leads, outcomes and companies; and beside it
the same leads in canonical form (`leads.csv` with the companies' columns already joined,
`outcomes.csv`). Then times `leadcal validate` on each as interleaved pairs (A B A B ...),
with `/usr/bin/time -v`, and prints the medians and the ratio; the figures go in
benches/RESULTS-EXPORTS.md.

    python3 benches/exports.py --leadcal target/release/leadcal --pairs 5
"""

import argparse
import random
import re
import statistics
import subprocess
from datetime import date, timedelta
from pathlib import Path


def write_worlds(root: Path, n: int) -> tuple[Path, Path]:
    shape, canon = root / "shape", root / "canonical"
    if (shape / "dataset.toml").exists() and (canon / "outcomes.csv").exists():
        return shape, canon
    shape.mkdir(parents=True, exist_ok=True)
    canon.mkdir(parents=True, exist_ok=True)
    r = random.Random(27)
    sectors = ["retail", "software", "medical", "finance", "services", "marketing"]
    accounts = []
    for k in range(2_000):
        accounts.append((f"Company {k:05d}", r.choice(sectors), 1950 + r.randrange(70),
                         f"{r.uniform(1, 5000):.2f}", r.randrange(10, 20_000),
                         r.choice(["United States", "Germany", "Austria", "Japan"])))
    acc = {a[0]: a for a in accounts}
    with open(shape / "accounts.csv", "w") as f:
        f.write("account,sector,year_established,revenue,employees,office_location,subsidiary_of\n")
        for a in accounts:
            f.write(",".join(map(str, a)) + ",\n")
    start = date(2022, 1, 1)
    with open(shape / "sales_pipeline.csv", "w") as p, open(canon / "leads.csv", "w") as l, \
            open(canon / "outcomes.csv", "w") as o:
        p.write("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n")
        l.write("lead_id,created_at,account_id,product,sector,year_established,revenue,employees,office_location\n")
        o.write("lead_id,stage,reached_at\n")
        leads = 0
        k = 0
        while leads < n:
            k += 1
            oid = f"O{k:08d}"
            account = accounts[r.randrange(len(accounts))][0]
            product = r.choice(["GTX Basic", "GTX Pro", "MG Special", "MG Advanced"])
            agent = r.choice(["Moses Frase", "Darcel Schlecht", "Anna Snelling"])
            if r.random() < 0.06:
                p.write(f"{oid},{agent},{product},{account},Prospecting,,,\n")
                continue
            leads += 1
            engaged = start + timedelta(days=r.randrange(730))
            stage = r.choices(["Won", "Lost", "Engaging"], [0.4, 0.45, 0.15])[0]
            closed = engaged + timedelta(days=r.randrange(5, 120)) if stage != "Engaging" else None
            value = (r.randrange(50, 5000) if stage == "Won" else 0) if closed else ""
            p.write(f"{oid},{agent},{product},{account},{stage},{engaged},{closed or ''},{value}\n")
            a = acc[account]
            l.write(f"{oid},{engaged},{account},{product},{','.join(map(str, a[1:]))}\n")
            if closed:
                o.write(f"{oid},{stage.lower()},{closed}\n")
    (shape / "dataset.toml").write_text("""[leads]
file = "sales_pipeline.csv"
stage_column = "deal_stage"
stage_date = "close_date"
ignore_columns = ["sales_agent"]

[leads.columns]
lead_id = "opportunity_id"
created_at = "engage_date"
account_id = "account"

[leads.rows]
skip_stages = ["Prospecting"]

[leads.codes.stage]
"Won" = "won"
"Lost" = "lost"
"Engaging" = "engaging"

[accounts]
file = "accounts.csv"

[accounts.columns]
account_id = "account"
""")
    return shape, canon


def timed(leadcal: str, data: Path) -> tuple[float, float, int]:
    out = subprocess.run(["/usr/bin/time", "-v", leadcal, "validate", str(data), "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    err = out.stderr
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", err)
    h, m, s = wall.groups()
    wall_s = int(h or 0) * 3600 + int(m) * 60 + float(s)
    cpu = float(re.search(r"User time.*: ([\d.]+)", err).group(1)) + \
        float(re.search(r"System time.*: ([\d.]+)", err).group(1))
    rss = int(re.search(r"Maximum resident set size.*: (\d+)", err).group(1))
    return wall_s, cpu, rss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leadcal", required=True)
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--worlds", default="/tmp/leadcal-bench/exports")
    a = ap.parse_args()
    shape, canon = write_worlds(Path(a.worlds), a.leads)
    for d in (shape, canon):  # into the page cache
        for f in d.iterdir():
            f.read_bytes()
    runs = {"shape": [], "canonical": []}
    for _ in range(a.pairs):
        runs["shape"].append(timed(a.leadcal, shape))
        runs["canonical"].append(timed(a.leadcal, canon))
    med = {k: [statistics.median(x[i] for x in v) for i in range(3)] for k, v in runs.items()}
    print(f"| data ({a.leads:,} leads) | wall s (median of {a.pairs}) | CPU s | peak RSS MB | runs (wall s) |")
    print("|---|---|---|---|---|")
    for k, (w, c, r) in med.items():
        print(f"| {k} | {w:.2f} | {c:.2f} | {r / 1024:.0f} | {', '.join(f'{x[0]:.2f}' for x in runs[k])} |")
    print(f"\nshape / canonical, wall: {med['shape'][0] / med['canonical'][0]:.3f}; "
          f"CPU: {med['shape'][1] / med['canonical'][1]:.3f}")


if __name__ == "__main__":
    main()
