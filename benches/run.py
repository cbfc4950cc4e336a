#!/usr/bin/env python3
"""leadcal's benchmark: `calibrate` against two reference pipelines on the demo world.

    python3 benches/run.py --python .venv/bin/python                      # 1M: int and text ids
    python3 benches/run.py --python .venv/bin/python --kinds int,text,csv --baseline OLD_BINARY
    python3 benches/run.py --python .venv/bin/python --sizes 10M --kinds int --skip-pandas \
        --memory-cap-gib 20 --out benches/RESULTS-10M.md

For each size and kind it generates the demo world once (`leadcal demo --leads N`, cached in
--worlds): `int` (integer lead ids, Parquet), `text` (ids like L0000001, `--ids text`), `csv`
(integer ids, every table as CSV, `--format csv`), `text-time` (the text world with its events
in time order, as activity exports list them, rather than lead by lead). The world's files are read once before any
timing (so every run finds them in the page cache).

Then it runs --rounds rounds (at least 3). Each round runs every tool once, one after another,
under /usr/bin/time -v, and the next round starts with the tool that ran second in the one
before (reference, leadcal, reference, leadcal, ...), so a slow spell of the machine falls on
both sides of a pair:
  - the floor: scan the three tables and one group-by over the events, with Python Polars
    (streaming; CSV read with its dates parsed) and, where the interpreter has it, DuckDB: the
    least any tool reading these files does;
  - `leadcal calibrate --since 2023-01` with LEADCAL_TIMINGS=1 (per-stage wall times);
  - with --baseline, the same command with an earlier leadcal binary: its stages are shown as
    "before", and every file of its run folder is compared byte for byte with the new one's;
  - benches/reference/polars_sklearn.py and pandas_sklearn.py (same job, same files, CSV read
    with each library's CSV reader).
Every figure is a median over the rounds with its spread (lowest–highest). A ratio is taken
within each round (the reference's wall over leadcal's in the same round) and its median
reported: two numbers from different moments are never divided.

Before each round it records what moves timings on a shared VM: the load average, the memory
available, the page cache, and transparent huge pages (their setting and how many anonymous
huge pages are in use). A round that starts with a load average above --max-load waits (up to a
minute) for the machine to quieten, and the results say how long it waited.

It writes benches/RESULTS.md: wall time, CPU time (user + sys), peak memory, the ratios, and
leadcal's stages. Standard library only; the references need benches/reference/requirements.txt
in the interpreter given with --python (and `duckdb` for the DuckDB floor).
"""
import statistics
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
    # The demo writes each lead's events together; an activity export usually lists them in
    # time order, so that every event's lead is another one (the lookups of text ids at random).
    "text-time": ("text ids, Parquet, events in time order", ["--ids", "text"]),
}

# Rewrites a world's events in time order (ties in the order written), with the interpreter
# given by --python.
SORT_BY_TIME = """
import sys, polars as pl
src, tmp = sys.argv[1], sys.argv[1] + ".sorting"
pl.scan_parquet(src).sort("occurred_at", maintain_order=True).sink_parquet(tmp)
import os; os.replace(tmp, src)
"""

FLOOR_DUCKDB = """
import sys, duckdb
d, fmt = sys.argv[1], sys.argv[2]
src = (lambda n: f"read_csv_auto('{d}/{n}.csv')") if fmt == "csv" else (lambda n: f"read_parquet('{d}/{n}.parquet')")
c = duckdb.connect()
n = c.execute(f"select count(*) from (select lead_id, count(*), max(occurred_at) from {src('events')} group by lead_id)").fetchone()[0]
m = c.execute(f"select (select count(*) from {src('leads')}) + (select count(*) from {src('outcomes')})").fetchone()[0]
print(n, m)
"""

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


def world(leadcal, python, worlds, size, kind):
    name = size if kind == "int" else f"{size}-{kind}"
    d = worlds / name
    ext = "csv" if kind == "csv" else "parquet"
    if not (d / f"events.{ext}").exists():
        print(f"generating the {name} world in {d} ...", flush=True)
        shutil.rmtree(d, ignore_errors=True)
        subprocess.run([leadcal, "demo", "--out", d, "--leads", str(SIZES[size])] + KINDS[kind][1],
                       check=True, stdout=subprocess.DEVNULL)
        if kind == "text-time":
            subprocess.run([python, "-c", SORT_BY_TIME, d / "events.parquet"], check=True)
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
    opts = [f"--sizes {a.sizes}", f"--kinds {a.kinds}", f"--rounds {a.rounds}"]
    if a.baseline:
        opts.append("--baseline <earlier leadcal>")
    if a.skip_pandas:
        opts.append("--skip-pandas")
    if a.memory_cap_gib:
        opts.append(f"--memory-cap-gib {a.memory_cap_gib:g}")
    if a.check_threads:
        opts.append("--check-threads")
    if a.second_run:
        opts.append("--second-run")
    if a.out != str(ROOT / "benches" / "RESULTS.md"):
        opts.append(f"--out {os.path.relpath(a.out, ROOT)}")
    return " ".join(opts)


def gib(b):
    return f"{b / 2**30:.2f}"


def calibrate(binary, d, out, a, env, cache=None, extra=()):
    """One timed `calibrate`. Without `cache`, the events cache is a new, empty folder, so the
    run is a first look at the data (reading the events and storing them, as a user's first run
    does); with it, the run uses that folder."""
    cmd = [binary, "calibrate", "--since", "2023-01", "--data", d, "--out", out, "--quiet", *extra]
    fresh = None if cache else tempfile.mkdtemp(prefix="leadcal-cache-")
    env = dict(env, LEADCAL_CACHE_DIR=str(cache or fresh))
    try:
        if a.memory_cap_gib:
            w, cpu, rss, ok, err = capped(cmd, a.memory_cap_gib * 2**30, env=env)
        else:
            w, cpu, rss, _, err = timed(cmd, env=env)
            ok = True
    finally:
        if fresh:
            shutil.rmtree(fresh, ignore_errors=True)
    return {"wall": w, "cpu": cpu, "rss": rss, "completed": ok,
            "stages": re.findall(r"timing: (.+?)\s+([\d.]+) s$", err, re.M)}


def same_files(x, y):
    files = sorted(f.name for f in Path(x).iterdir() if f.is_file())
    same = [f for f in files if (Path(x) / f).read_bytes() == (Path(y) / f).read_bytes()]
    return len(same), len(files), sorted(set(files) - set(same))


def machine_state():
    """What moves timings on a shared VM, read just before a round."""
    info = {l.split(":")[0]: int(l.split()[1]) for l in open("/proc/meminfo") if l.split()[1].isdigit()}
    thp = lambda f: re.search(r"\[(\w[\w+]*)\]", open(f"/sys/kernel/mm/transparent_hugepage/{f}").read()).group(1)
    try:
        thp_mode = f"{thp('enabled')}/{thp('defrag')}"
    except OSError:
        thp_mode = "?"
    return {"load": os.getloadavg()[0], "available_gib": info.get("MemAvailable", 0) / 2**20,
            "cached_gib": info.get("Cached", 0) / 2**20, "anon_huge_gib": info.get("AnonHugePages", 0) / 2**20,
            "thp": thp_mode}


def steal_s():
    """CPU time the hypervisor gave to other guests so far (the `steal` column of /proc/stat), in
    seconds summed over the cores: on a shared VM the one thing a quiet-looking guest cannot see
    in its own load average."""
    f = open("/proc/stat").readline().split()
    return int(f[8]) / os.sysconf("SC_CLK_TCK") if len(f) > 8 else 0.0


def quiet(max_load):
    """Wait (at most 60 s) for the 1-minute load average to drop under `max_load`; seconds waited."""
    t = time.perf_counter()
    while os.getloadavg()[0] > max_load and time.perf_counter() - t < 60:
        time.sleep(5)
    return time.perf_counter() - t


def med(xs):
    """Median and spread of a list: (median, lowest, highest)."""
    return statistics.median(xs), min(xs), max(xs)


def fmt(xs, f="{:.1f}"):
    m, lo, hi = med(xs)
    return f"{f.format(m)} ({f.format(lo)}–{f.format(hi)})"


def has_module(python, name):
    return subprocess.run([python, "-c", f"import {name}"], capture_output=True).returncode == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1M")
    ap.add_argument("--kinds", default="int,text", help="comma-separated: int, text, csv, text-time")
    ap.add_argument("--python", required=True, help="interpreter with requirements.txt installed")
    ap.add_argument("--worlds", default="/tmp/leadcal-bench")
    ap.add_argument("--leadcal", default=None, help="default: release build in CARGO_TARGET_DIR or target/")
    ap.add_argument("--baseline", default=None,
                    help="an earlier leadcal binary: its stages are shown as 'before' and its outputs compared")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds per world (at least 3)")
    ap.add_argument("--max-load", type=float, default=0.5,
                    help="wait before a round until the 1-minute load average is under this")
    ap.add_argument("--skip-pandas", action="store_true", help="e.g. at 10M, where it cannot fit in memory")
    ap.add_argument("--memory-cap-gib", type=float, default=None,
                    help="run leadcal under a watchdog that stops it above this much RSS (10M)")
    ap.add_argument("--check-threads", action="store_true",
                    help="also run calibrate with RAYON_NUM_THREADS=1 and compare every output file")
    ap.add_argument("--second-run", action="store_true",
                    help="also time a second calibrate (another objective) that reads the events cache a first run stored")
    ap.add_argument("--out", default=str(ROOT / "benches" / "RESULTS.md"))
    a = ap.parse_args()
    if a.rounds < 3:
        sys.exit("--rounds must be at least 3: a median of fewer says little on a shared machine")
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    leadcal = Path(a.leadcal) if a.leadcal else target / "release" / "leadcal"
    if not a.leadcal:
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
    worlds = Path(a.worlds)
    worlds.mkdir(parents=True, exist_ok=True)
    refs = ROOT / "benches" / "reference"
    duck = has_module(a.python, "duckdb")
    results = []
    for size in a.sizes.split(","):
        for kind in a.kinds.split(","):
            name, d, ext = world(leadcal, a.python, worlds, size, kind)
            env = dict(os.environ, LEADCAL_TIMINGS="1")
            refs_run = [r for r in ["polars", "pandas"] if not (r == "pandas" and a.skip_pandas)]
            r = {"world": name, "kind": kind, "runs": {}, "states": [], "waited": [], "refs": refs_run}
            keep = Path(tempfile.mkdtemp())

            def tool(label, k, tmp):
                """One timed run of tool `label` in round `k`: (wall, cpu, rss, extra)."""
                if label == "floor (Polars)":
                    w, c, m, _, _ = timed([a.python, "-c", FLOOR, d, ext])
                    return w, c, m, None
                if label == "floor (DuckDB)":
                    w, c, m, _, _ = timed([a.python, "-c", FLOOR_DUCKDB, d, ext])
                    return w, c, m, None
                if label in ("leadcal", "before"):
                    binary = leadcal if label == "leadcal" else Path(a.baseline)
                    out = (keep if label == "leadcal" else Path(tmp)) / f"{label}-{k}"
                    x = calibrate(binary, d, out, a, env)
                    return x["wall"], x["cpu"], x["rss"], dict(x, out=out)
                cmd = [a.python, refs / f"{label}_sklearn.py", d, "--format", ext]
                if a.memory_cap_gib:
                    out_file = Path(tempfile.mkdtemp()) / "out.json"
                    w, c, m, ok, _ = capped(["sh", "-c", f'cd "{refs}" && exec "$0" "$@" > "{out_file}"'] + cmd,
                                            a.memory_cap_gib * 2**30)
                    return w, c, m, json.loads(out_file.read_text()) if ok else None
                w, c, m, out, _ = timed(cmd, cwd=refs)
                return w, c, m, json.loads(out)

            labels = ["floor (Polars)"] + (["floor (DuckDB)"] if duck else []) + ["leadcal"] \
                + (["before"] if a.baseline else []) + refs_run
            # The timed tools, rotated each round: a reference and leadcal swap places.
            timed_tools = [x for x in labels if not x.startswith("floor")]
            with tempfile.TemporaryDirectory() as tmp:
                for k in range(a.rounds):
                    r["waited"].append(quiet(a.max_load))
                    r["states"].append(machine_state())
                    steal0 = steal_s()
                    turn = k % len(timed_tools)
                    order = [x for x in labels if x.startswith("floor")] + timed_tools[turn:] + timed_tools[:turn]
                    for label in order:
                        print(f"[{name}] round {k + 1}/{a.rounds}: {label} ...", flush=True)
                        r["runs"].setdefault(label, []).append(tool(label, k, tmp))
                    r["states"][-1]["steal"] = steal_s() - steal0
                lc_runs = r["runs"]["leadcal"]
                # Every round's outputs are the same bytes.
                first = lc_runs[0][3]["out"]
                r["rounds_same"] = [same_files(first, x[3]["out"]) for x in lc_runs[1:]]
                # The stages of the round with the median wall.
                walls = [x[0] for x in lc_runs]
                mid = sorted(range(len(walls)), key=walls.__getitem__)[len(walls) // 2]
                r["leadcal_stages"] = lc_runs[mid][3]["stages"]
                r["completed"] = all(x[3]["completed"] for x in lc_runs)
                if a.baseline:
                    b_runs = r["runs"]["before"]
                    r["before_stages"] = b_runs[mid][3]["stages"]
                    r["before_same"] = same_files(first, b_runs[0][3]["out"])
                if a.second_run:
                    # The second look: the events cache stored by a first run, then another
                    # objective, timed as often as the rounds; its files against a run without
                    # the cache on the same objective.
                    cache = Path(tmp) / "cache"
                    calibrate(leadcal, d, Path(tmp) / "warm", a, env, cache=cache)
                    seconds = []
                    for k in range(a.rounds):
                        quiet(a.max_load)
                        print(f"[{name}] second run {k + 1}/{a.rounds}: --objective f1 with the cache ...", flush=True)
                        x = calibrate(leadcal, d, Path(tmp) / f"second-{k}", a, env, cache=cache,
                                      extra=["--objective", "f1"])
                        seconds.append((x["wall"], x["cpu"], x["rss"], x))
                    calibrate(leadcal, d, Path(tmp) / "second-fresh", a, env, extra=["--objective", "f1", "--no-cache"])
                    walls = [x[0] for x in seconds]
                    mid = sorted(range(len(walls)), key=walls.__getitem__)[len(walls) // 2]
                    r["second"] = {"runs": seconds, "stages": seconds[mid][3]["stages"],
                                   "same": same_files(Path(tmp) / "second-fresh", Path(tmp) / "second-0")}
                if a.check_threads:
                    print(f"[{name}] leadcal calibrate with RAYON_NUM_THREADS=1 ...", flush=True)
                    one = dict(os.environ, RAYON_NUM_THREADS="1", POLARS_MAX_THREADS="1")
                    t1 = calibrate(leadcal, d, Path(tmp) / "one", a, one)
                    r["threads"] = (t1["wall"],) + same_files(first, Path(tmp) / "one")
            shutil.rmtree(keep, ignore_errors=True)
            results.append(r)

    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}. Made by `python3 benches/run.py --python <venv>/bin/python {made_by(a)}`",
        f"(release build; {a.rounds} interleaved rounds per world: each round runs every tool once, one after",
        "another, and the next round starts with the tool that ran second, so reference and leadcal alternate;",
        "the world's files read once before the first round; wall, CPU (user + sys) and peak RSS from "
        + ("the process's VmHWM and /proc stat, polled every 0.2 s under the memory cap)." if a.memory_cap_gib else "`/usr/bin/time -v`)."),
        "Each figure: the median over the rounds, with the lowest and highest in brackets. Each ratio is taken",
        "within a round (the reference's wall over leadcal's in the same round) and its median is shown.",
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
        runs = r["runs"]
        lc = runs["leadcal"]
        col = lambda xs, i, f="{:.1f}": fmt([x[i] for x in xs], f)
        peak = lambda xs: fmt([x[2] / 2**30 for x in xs], "{:.2f}")
        ratio = lambda xs, i, inv: fmt([(x[i] / y[i]) if inv else (y[i] / x[i]) for x, y in zip(xs, lc)], "{:.2f}") + "×"
        for f in ["floor (Polars)", "floor (DuckDB)"]:
            if f in runs:
                what = "scan + one group-by over events"
                lines.append(f"| {r['world']} | {f.replace('floor', 'floor: ' + what)} | {col(runs[f], 0)} | {col(runs[f], 1)} | {peak(runs[f])} | | | |")
        note = "" if r["completed"] else " (stopped at the memory cap: did not complete)"
        lines.append(f"| {r['world']} | **leadcal calibrate**{note} | **{col(lc, 0)}** | **{col(lc, 1)}** | **{peak(lc)}** | | | |")
        for label, title in [("before", "earlier leadcal calibrate")] + [(x, f"{x} + scikit-learn reference") for x in r["refs"]]:
            if label not in runs:
                continue
            xs = runs[label]
            if any(x[3] is None for x in xs) and label != "before":
                lines.append(f"| {r['world']} | {title} (stopped at the memory cap: did not complete) | {col(xs, 0)} | {col(xs, 1)} | {peak(xs)} | | | |")
                continue
            lines.append(f"| {r['world']} | {title} | {col(xs, 0)} | {col(xs, 1)} | {peak(xs)} | {ratio(xs, 0, True)} | {ratio(xs, 1, False)} | {ratio(xs, 2, False)} |")
    lines += ["", "Ratios: wall = reference (or earlier) wall / leadcal wall; CPU and peak = leadcal / reference, each within a round."]
    if any("second" in r for r in results):
        lines += ["", "## The second run: another objective on data a first run read", "",
                  "A first `calibrate` stores the checked events in the events cache; then `calibrate --objective f1`",
                  f"runs {a.rounds} times with that cache (medians, lowest and highest in brackets). Its files are compared",
                  "with a run of the same objective with `--no-cache`.", "",
                  "| world | wall (s) | CPU (s) | peak (GiB) | identical to --no-cache | load (s) | features (s) | fit (s) | recommend (s) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in results:
            if "second" not in r:
                continue
            sr = r["second"]
            xs = sr["runs"]
            st = dict(sr["stages"])
            same, total, differ = sr["same"]
            lines.append(f"| {r['world']} | {fmt([x[0] for x in xs])} | {fmt([x[1] for x in xs])} | "
                         f"{fmt([x[2] / 2**30 for x in xs], '{:.2f}')} | {same} of {total} files"
                         + (f" (different: {', '.join(differ)})" if differ else "")
                         + f" | {st.get('load (all tables)', '')} | {st.get('features', '')} | {st.get('fit', '')} | {st.get('recommend', '')} |")
    lines += ["", "## The machine before each round", "",
              "| world | round | waited for quiet (s) | load (1 min) | memory available (GiB) | page cache (GiB) | THP enabled/defrag | anonymous huge pages (GiB) | CPU stolen by the host during the round (s) |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        for k, (st, w) in enumerate(zip(r["states"], r["waited"])):
            lines.append(f"| {r['world']} | {k + 1} | {w:.0f} | {st['load']:.2f} | {st['available_gib']:.1f} | {st['cached_gib']:.1f} | {st['thp']} | {st['anon_huge_gib']:.2f} | {st.get('steal', 0):.1f} |")
    for r in results:
        names = []
        runs = [("after", r["leadcal_stages"])] + ([("before", r["before_stages"])] if "before_stages" in r else [])
        for _, st in runs:
            for n, _ in st:
                if n not in names:
                    names.append(n)
        lines += ["", f"## leadcal's stages, {r['world']} (wall seconds, `LEADCAL_TIMINGS=1`, the round with the median wall)", ""]
        lines.append("| stage | " + " | ".join(k for k, _ in runs) + " |")
        lines.append("|---|" + "---|" * len(runs))
        for n in names:
            lines.append(f"| {n} | " + " | ".join(dict(st).get(n, "") for _, st in runs) + " |")
        differ = sorted({f for _, _, d in r["rounds_same"] for f in d})
        lines += ["", f"Rounds ({r['world']}): every round's output files are byte-identical to the first round's."
                  if not differ else f"Rounds ({r['world']}): files that differ between rounds: {', '.join(differ)}."]
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
        for ref in r["refs"]:
            j = r["runs"][ref][0][3]
            if j is not None:
                lines.append(f"| {r['world']} | {ref} | {j['evaluable']:,} | {j['converted']:,} | {j['live_auc']:.4f} | {j['model_auc']:.4f} |")
    Path(a.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
