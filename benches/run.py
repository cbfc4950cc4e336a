#!/usr/bin/env python3
"""leadcal's benchmark: `calibrate` against two reference pipelines on the demo world.

    python3 benches/run.py --python .venv/bin/python                      # 1M: int and text ids
    python3 benches/run.py --python .venv/bin/python --kinds int,text,csv --baseline OLD_BINARY
    python3 benches/run.py --python .venv/bin/python --sizes 10M --kinds int --skip-pandas \
        --memory-cap-gib 20 --out benches/RESULTS-10M.md

For each size and kind it generates the demo world once (`leadcal demo --leads N`, cached in
--worlds): `int` (integer lead ids, Parquet), `text` (ids like L0000001, `--ids text`), `csv`
(integer ids, every table as CSV, `--format csv`). The world's files are read once before any
timing (so every run finds them in the page cache), then, one after another, under
/usr/bin/time -v:
  - the floor: scan the three tables and one group-by over the events (Python Polars,
    streaming; CSV read with its dates parsed), the least any tool reading these files does;
  - `leadcal calibrate --since 2023-01` with LEADCAL_TIMINGS=1 (per-stage wall times);
  - with --baseline, the same command with an earlier leadcal binary: its stages are shown as
    "before", and every file of its run folder is compared byte for byte with the new one's;
  - benches/reference/polars_sklearn.py and pandas_sklearn.py (same job, same files, CSV read
    with each library's CSV reader).
It writes benches/RESULTS.md: wall time, CPU time (user + sys), peak memory, the ratios, and
leadcal's stages. Standard library only; the references need benches/reference/requirements.txt
in the interpreter given with --python.
"""
import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"100k": 100_000, "1M": 1_000_000, "10M": 10_000_000}
KINDS = {
    "int": ("integer ids, Parquet", []),
    "text": ("text ids, Parquet", ["--ids", "text"]),
    "csv": ("integer ids, CSV", ["--format", "csv"]),
}

FLOOR = """
import sys, polars as pl
d, fmt = sys.argv[1], sys.argv[2]
scan = (lambda n: pl.scan_csv(f"{d}/{n}.csv", try_parse_dates=True)) if fmt == "csv" else (lambda n: pl.scan_parquet(f"{d}/{n}.parquet"))
n = scan("events").group_by("lead_id").agg(pl.len(), pl.col("occurred_at").max()).collect(engine="streaming").height
m = scan("leads").collect().height + scan("outcomes").collect().height
print(n, m)
"""


def timed(cmd, env=None, cwd=None):
    """Run under /usr/bin/time -v: (wall s, CPU s (user + sys), peak RSS bytes, stdout, stderr)."""
    full = ["/usr/bin/time", "-v"] + [str(c) for c in cmd]
    t = time.perf_counter()
    p = subprocess.run(full, capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(map(str, cmd))}\n{p.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) * 1024
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", p.stderr).group(1)) for k in ["User", "System"])
    return wall, cpu, rss, p.stdout, p.stderr


def capped(cmd, cap_bytes, env=None):
    """Run with a memory watchdog (VmRSS polled every 0.2 s, killed above `cap_bytes`):
    (wall s, CPU s, peak RSS bytes from VmHWM, completed, stderr)."""
    t = time.perf_counter()
    p = subprocess.Popen([str(c) for c in cmd], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    peak, killed, ticks = 0, False, 0
    while p.poll() is None:
        try:
            status = open(f"/proc/{p.pid}/status").read()
            rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) * 1024
            peak = max(peak, int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) * 1024)
            # utime and stime, the 14th and 15th fields (the command name may hold spaces).
            stat = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
            ticks = int(stat[11]) + int(stat[12])
            if rss > cap_bytes:
                p.kill()
                killed = True
        except (OSError, AttributeError, IndexError, ValueError):
            pass
        time.sleep(0.2)
    err = p.stderr.read()
    # CPU as last seen, at most 0.2 s before the end.
    cpu = ticks / os.sysconf("SC_CLK_TCK")
    return time.perf_counter() - t, cpu, peak, (p.returncode == 0 and not killed), err


def world(leadcal, worlds, size, kind):
    name = size if kind == "int" else f"{size}-{kind}"
    d = worlds / name
    ext = "csv" if kind == "csv" else "parquet"
    if not (d / f"events.{ext}").exists():
        print(f"generating the {name} world in {d} ...", flush=True)
        shutil.rmtree(d, ignore_errors=True)
        subprocess.run([leadcal, "demo", "--out", d, "--leads", str(SIZES[size])] + KINDS[kind][1],
                       check=True, stdout=subprocess.DEVNULL)
    # Into the page cache, so that no run pays for the disk.
    for f in d.iterdir():
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass
    return name, d, ext


def machine():
    mem = next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return f"{os.cpu_count()} cores ({cpu}), {int(mem) / 2**20:.1f} GiB RAM, {platform.system()} {platform.release()}"


def made_by(a):
    """The options this run was made with, as a command line."""
    opts = [f"--sizes {a.sizes}", f"--kinds {a.kinds}"]
    if a.baseline:
        opts.append("--baseline <earlier leadcal>")
    if a.skip_pandas:
        opts.append("--skip-pandas")
    if a.memory_cap_gib:
        opts.append(f"--memory-cap-gib {a.memory_cap_gib:g}")
    if a.check_threads:
        opts.append("--check-threads")
    if a.out != str(ROOT / "benches" / "RESULTS.md"):
        opts.append(f"--out {os.path.relpath(a.out, ROOT)}")
    return " ".join(opts)


def gib(b):
    return f"{b / 2**30:.2f}"


def calibrate(binary, d, out, a, env):
    cmd = [binary, "calibrate", "--since", "2023-01", "--data", d, "--out", out, "--quiet"]
    if a.memory_cap_gib:
        w, cpu, rss, ok, err = capped(cmd, a.memory_cap_gib * 2**30, env=env)
    else:
        w, cpu, rss, _, err = timed(cmd, env=env)
        ok = True
    return {"wall": w, "cpu": cpu, "rss": rss, "completed": ok,
            "stages": re.findall(r"timing: (.+?)\s+([\d.]+) s$", err, re.M)}


def same_files(x, y):
    files = sorted(f.name for f in Path(x).iterdir() if f.is_file())
    same = [f for f in files if (Path(x) / f).read_bytes() == (Path(y) / f).read_bytes()]
    return len(same), len(files), sorted(set(files) - set(same))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1M")
    ap.add_argument("--kinds", default="int,text", help="comma-separated: int, text, csv")
    ap.add_argument("--python", required=True, help="interpreter with requirements.txt installed")
    ap.add_argument("--worlds", default="/tmp/leadcal-bench")
    ap.add_argument("--leadcal", default=None, help="default: release build in CARGO_TARGET_DIR or target/")
    ap.add_argument("--baseline", default=None,
                    help="an earlier leadcal binary: its stages are shown as 'before' and its outputs compared")
    ap.add_argument("--skip-pandas", action="store_true", help="e.g. at 10M, where it cannot fit in memory")
    ap.add_argument("--memory-cap-gib", type=float, default=None,
                    help="run leadcal under a watchdog that stops it above this much RSS (10M)")
    ap.add_argument("--check-threads", action="store_true",
                    help="also run calibrate with RAYON_NUM_THREADS=1 and compare every output file")
    ap.add_argument("--out", default=str(ROOT / "benches" / "RESULTS.md"))
    a = ap.parse_args()
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    leadcal = Path(a.leadcal) if a.leadcal else target / "release" / "leadcal"
    if not a.leadcal:
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
    worlds = Path(a.worlds)
    worlds.mkdir(parents=True, exist_ok=True)
    refs = ROOT / "benches" / "reference"
    results = []
    for size in a.sizes.split(","):
        for kind in a.kinds.split(","):
            name, d, ext = world(leadcal, worlds, size, kind)
            r = {"world": name, "kind": kind}
            print(f"[{name}] floor ...", flush=True)
            fw, fc, fr, _, _ = timed([a.python, "-c", FLOOR, d, ext])
            r["floor"] = (fw, fc, fr)
            env = dict(os.environ, LEADCAL_TIMINGS="1")
            with tempfile.TemporaryDirectory() as tmp:
                print(f"[{name}] leadcal calibrate ...", flush=True)
                r["leadcal"] = calibrate(leadcal, d, Path(tmp) / "run", a, env)
                if a.baseline:
                    print(f"[{name}] earlier leadcal calibrate ...", flush=True)
                    r["before"] = calibrate(Path(a.baseline), d, Path(tmp) / "before", a, env)
                    r["before_same"] = same_files(Path(tmp) / "run", Path(tmp) / "before")
                if a.check_threads:
                    print(f"[{name}] leadcal calibrate with RAYON_NUM_THREADS=1 ...", flush=True)
                    one = dict(os.environ, RAYON_NUM_THREADS="1", POLARS_MAX_THREADS="1")
                    t1 = calibrate(leadcal, d, Path(tmp) / "one", a, one)
                    r["threads"] = (t1["wall"],) + same_files(Path(tmp) / "run", Path(tmp) / "one")
            for ref in ["polars", "pandas"]:
                if ref == "pandas" and a.skip_pandas:
                    continue
                print(f"[{name}] {ref} reference ...", flush=True)
                cmd = [a.python, refs / f"{ref}_sklearn.py", d, "--format", ext]
                if a.memory_cap_gib:
                    out_file = Path(tempfile.mkdtemp()) / "out.json"
                    w, cpu, rss, ok, _ = capped(["sh", "-c", f'cd "{refs}" && exec "$0" "$@" > "{out_file}"'] + cmd,
                                                a.memory_cap_gib * 2**30)
                    r[ref] = (w, cpu, rss, json.loads(out_file.read_text()) if ok else None)
                else:
                    w, cpu, rss, out, _ = timed(cmd, cwd=refs)
                    r[ref] = (w, cpu, rss, json.loads(out))
            results.append(r)

    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}. Made by `python3 benches/run.py --python <venv>/bin/python {made_by(a)}`",
        "(release build; every run alone on the machine, one after another, the world's files read once",
        "before the first; wall, CPU (user + sys) and peak RSS from "
        + ("the process's VmHWM and /proc stat, polled every 0.2 s under the memory cap)." if a.memory_cap_gib else "`/usr/bin/time -v`)."),
        "Worlds: `leadcal demo --leads N` (int: integer ids, Parquet; text: `--ids text`; csv: `--format csv`).",
        "Job: snapshot scoring with the demo's live model, features, logistic fit, ROC/PR AUC, threshold sweep,",
        "segments of high-score non-converters. leadcal's `calibrate` also replays every hand-over (MQL/SQL",
        "crossing times), bootstraps intervals, cross-validates the penalty, back-tests the recommended config",
        "and draws the report.",
        "",
        "| world | tool | wall (s) | CPU (s) | peak (GiB) | wall: leadcal faster by | CPU: leadcal uses | peak: leadcal uses |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lc = r["leadcal"]
        lines.append(f"| {r['world']} | floor: scan + one group-by over events (Polars) | {r['floor'][0]:.1f} | {r['floor'][1]:.1f} | {gib(r['floor'][2])} | | | |")
        note = "" if lc["completed"] else " (stopped at the memory cap: did not complete)"
        lines.append(f"| {r['world']} | **leadcal calibrate**{note} | **{lc['wall']:.1f}** | **{lc['cpu']:.1f}** | **{gib(lc['rss'])}** | | | |")
        if "before" in r:
            b = r["before"]
            lines.append(f"| {r['world']} | earlier leadcal calibrate | {b['wall']:.1f} | {b['cpu']:.1f} | {gib(b['rss'])} | {b['wall'] / lc['wall']:.2f}× | {lc['cpu'] / b['cpu']:.2f}× | {lc['rss'] / b['rss']:.2f}× |")
        for ref in ["polars", "pandas"]:
            if ref not in r:
                continue
            w, cpu, rss, j = r[ref]
            if j is None:
                lines.append(f"| {r['world']} | {ref} + scikit-learn reference (stopped at the memory cap: did not complete) | {w:.1f} | {cpu:.1f} | {gib(rss)} | | | |")
            else:
                lines.append(f"| {r['world']} | {ref} + scikit-learn reference | {w:.1f} | {cpu:.1f} | {gib(rss)} | {w / lc['wall']:.2f}× | {lc['cpu'] / cpu:.2f}× | {lc['rss'] / rss:.2f}× |")
    lines += ["", "Ratios: wall = reference (or earlier) wall / leadcal wall; CPU and peak = leadcal / reference."]
    for r in results:
        names = []
        runs = [("after", r["leadcal"])] + ([("before", r["before"])] if "before" in r else [])
        for _, run in runs:
            for n, _ in run["stages"]:
                if n not in names:
                    names.append(n)
        lines += ["", f"## leadcal's stages, {r['world']} (wall seconds, `LEADCAL_TIMINGS=1`)", ""]
        lines.append("| stage | " + " | ".join(k for k, _ in runs) + " |")
        lines.append("|---|" + "---|" * len(runs))
        for n in names:
            lines.append(f"| {n} | " + " | ".join(dict(run["stages"]).get(n, "") for _, run in runs) + " |")
        if "before_same" in r:
            same, total, differ = r["before_same"]
            lines += ["", f"Before and after ({r['world']}): {same} of {total} output files are byte-identical"
                      + (f" (different: {', '.join(differ)})." if differ else ".")]
        if "threads" in r:
            tw, same, total, differ = r["threads"]
            lines += ["", f"Thread count ({r['world']}): with `RAYON_NUM_THREADS=1 POLARS_MAX_THREADS=1` calibrate took {tw:.1f} s; "
                      f"{same} of {total} output files are byte-identical to the default run"
                      + (f" (different: {', '.join(differ)})." if differ else ".")]
    lines += ["", "## The references agree with leadcal", ""]
    lines.append("| world | tool | evaluable leads | converted | live AUC | model AUC |")
    lines.append("|---|---|---|---|---|---|")
    for r in results:
        for ref in ["polars", "pandas"]:
            if ref in r and r[ref][3] is not None:
                j = r[ref][3]
                lines.append(f"| {r['world']} | {ref} | {j['evaluable']:,} | {j['converted']:,} | {j['live_auc']:.4f} | {j['model_auc']:.4f} |")
    Path(a.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
