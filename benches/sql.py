"""Benchmark: the warehouse path on the demo world, next to calibrate on raw events.

    python benches/sql.py --leadcal target/release/leadcal --world /tmp/leadcal-bench/1M \
        --python ~/.cache/leadcal/sql-venv/bin/python --out benches/RESULTS-SQL.md

Times, on one machine: `calibrate` on the raw events; the query of `leadcal sql` (snapshot
table, and `--with-events`) in DuckDB and in Spark (local mode), each from Parquet to Parquet;
`calibrate --features` on the DuckDB table. Wall time and peak memory of every command come from
/usr/bin/time -v. The engines need tests/sql/requirements*.txt.
"""

import argparse
import os
import platform
import re
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd, **kw):
    t0 = time.time()
    r = subprocess.run(["/usr/bin/time", "-v", *map(str, cmd)], capture_output=True, text=True, **kw)
    wall = time.time() - t0
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{r.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    return wall, rss / 1024 / 1024, r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leadcal", required=True)
    ap.add_argument("--world", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--engines", default="duckdb,spark")
    ap.add_argument("--out", default=str(ROOT / "benches/RESULTS-SQL.md"))
    a = ap.parse_args()
    world = Path(a.world)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = world / "scoring.toml"
        w, m, _ = timed([a.leadcal, "calibrate", "--since", "2023-01", "--data", world, "--quiet",
                         "--out", tmp / "raw"])
        rows.append(("leadcal calibrate (raw events)", w, m))
        for engine in a.engines.split(","):
            for extra, what in ([], "snapshot table"), (["--with-events"], "with event lists"):
                sql = subprocess.run([a.leadcal, "sql", "--model", model, "--dialect", engine, *extra],
                                     capture_output=True, text=True, check=True).stdout
                q = tmp / f"{engine}{extra and '-events' or ''}.sql"
                q.write_text(sql)
                out = tmp / f"{engine}{extra and '-events' or ''}.parquet"
                w, m, so = timed([a.python, ROOT / "tests/sql/run.py", "--engine", engine,
                                  "--data", world, "--sql", q, "--out", out])
                inner = float(re.search(r"query ran in ([\d.]+) s", so).group(1))
                rows.append((f"{engine}: `leadcal sql` query, {what} (query alone {inner:.1f} s)", w, m))
        feats = tmp / "duckdb-events.parquet"
        if feats.exists():
            w, m, _ = timed([a.leadcal, "calibrate", "--since", "2023-01", "--data", world, "--quiet",
                             "--features", feats, "--out", tmp / "feat"])
            rows.append(("leadcal calibrate --features (the DuckDB table)", w, m))
    cores = os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    lines = [
        "# The warehouse path: `leadcal sql` on DuckDB and Spark, `calibrate --features`",
        "",
        f"Made by `python benches/sql.py --world {a.world} --engines {a.engines}` on "
        f"{platform.machine()}, {cores} cores, {mem:.0f} GiB; world: {world.name}.",
        "Each row is one command, wall time and peak memory from `/usr/bin/time -v` (engine rows",
        "include starting Python and, for Spark, the JVM, and writing the result as Parquet; the",
        "peak memory of Spark's JVM, a process pyspark starts and does not wait for, is not counted).",
        "",
        "| command | wall (s) | peak memory (GiB) |",
        "|---|---:|---:|",
    ]
    lines += [f"| {n} | {w:.1f} | {m:.2f} |" for n, w, m in rows]
    Path(a.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
