#!/usr/bin/env python3
"""leadcal's benchmark: `calibrate` against two reference pipelines on the demo world.

    python3 benches/run.py --python .venv/bin/python            # 100k and 1M leads
    python3 benches/run.py --python .venv/bin/python --sizes 10M

For each size it generates the demo world once (`leadcal demo --leads N`, Parquet, cached in
--worlds), then runs, one after another and under /usr/bin/time -v:
  - the floor: scan the three Parquet files and one group-by over the events (Python Polars,
    streaming), the least any tool reading these files has to do;
  - `leadcal calibrate --since 2023-01` with LEADCAL_TIMINGS=1 (per-stage wall times);
  - benches/reference/polars_sklearn.py and pandas_sklearn.py (same job, same data).
It writes benches/RESULTS.md: wall time, peak memory, the ratios, leadcal's stages, the machine.
Standard library only; the references need the packages in benches/reference/requirements.txt
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

FLOOR = """
import sys, polars as pl
d = sys.argv[1]
n = pl.scan_parquet(f"{d}/events.parquet").group_by("lead_id").agg(pl.len()).collect(engine="streaming").height
m = pl.scan_parquet(f"{d}/leads.parquet").collect().height + pl.scan_parquet(f"{d}/outcomes.parquet").collect().height
print(n, m)
"""


def timed(cmd, env=None, cwd=None):
    """Run under /usr/bin/time -v: (wall s, peak RSS bytes, stdout, stderr)."""
    full = ["/usr/bin/time", "-v"] + [str(c) for c in cmd]
    t = time.perf_counter()
    p = subprocess.run(full, capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(map(str, cmd))}\n{p.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) * 1024
    return wall, rss, p.stdout, p.stderr


def capped(cmd, cap_bytes, env=None):
    """Run with a memory watchdog (VmRSS polled every 0.2 s, killed above `cap_bytes`):
    (wall s, peak RSS bytes from VmHWM, completed, stderr)."""
    t = time.perf_counter()
    p = subprocess.Popen([str(c) for c in cmd], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    peak, killed = 0, False
    while p.poll() is None:
        try:
            status = open(f"/proc/{p.pid}/status").read()
            rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) * 1024
            peak = max(peak, int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) * 1024)
            if rss > cap_bytes:
                p.kill()
                killed = True
        except (OSError, AttributeError):
            pass
        time.sleep(0.2)
    err = p.stderr.read()
    return time.perf_counter() - t, peak, (p.returncode == 0 and not killed), err


def world(leadcal, worlds, size):
    d = worlds / size
    if not (d / "events.parquet").exists():
        print(f"generating the {size} world in {d} ...", flush=True)
        shutil.rmtree(d, ignore_errors=True)
        subprocess.run([leadcal, "demo", "--out", d, "--leads", str(SIZES[size])], check=True,
                       stdout=subprocess.DEVNULL)
    return d


def machine():
    mem = next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return f"{os.cpu_count()} cores ({cpu}), {int(mem) / 2**20:.1f} GiB RAM, {platform.system()} {platform.release()}"


def made_by(a):
    """The options this run was made with, as a command line."""
    opts = [f"--sizes {a.sizes}"]
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100k,1M")
    ap.add_argument("--python", required=True, help="interpreter with requirements.txt installed")
    ap.add_argument("--worlds", default="/tmp/leadcal-bench")
    ap.add_argument("--leadcal", default=None, help="default: release build in CARGO_TARGET_DIR or target/")
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
        d = world(leadcal, worlds, size)
        events_rows = None
        print(f"[{size}] floor ...", flush=True)
        fw, fr, out, _ = timed([a.python, "-c", FLOOR, d])
        r = {"size": size, "floor": (fw, fr)}
        print(f"[{size}] leadcal calibrate ...", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, LEADCAL_TIMINGS="1")
            cmd = [leadcal, "calibrate", "--since", "2023-01", "--data", d, "--out", Path(tmp) / "run", "--quiet"]
            if a.memory_cap_gib:
                lw, lr, ok, err = capped(cmd, a.memory_cap_gib * 2**30, env=env)
                r["completed"] = ok
            else:
                lw, lr, _, err = timed(cmd, env=env)
            stages = re.findall(r"timing: (.+?)\s+([\d.]+) s$", err, re.M)
            if a.check_threads:
                print(f"[{size}] leadcal calibrate with RAYON_NUM_THREADS=1 ...", flush=True)
                one = dict(os.environ, RAYON_NUM_THREADS="1")
                tw, _, _, _ = timed(cmd[:-3] + ["--out", Path(tmp) / "one", "--quiet"], env=one)
                files = sorted(f.name for f in (Path(tmp) / "run").iterdir() if f.is_file())
                same = [f for f in files if (Path(tmp) / "run" / f).read_bytes() == (Path(tmp) / "one" / f).read_bytes()]
                r["threads"] = (tw, len(same), len(files), sorted(set(files) - set(same)))
        r["leadcal"] = (lw, lr)
        r["stages"] = stages
        for name in ["polars", "pandas"]:
            if name == "pandas" and a.skip_pandas:
                continue
            print(f"[{size}] {name} reference ...", flush=True)
            cmd = [a.python, refs / f"{name}_sklearn.py", d]
            if a.memory_cap_gib:
                out_file = Path(tempfile.mkdtemp()) / "out.json"
                w, rss, ok, _ = capped(["sh", "-c", f'cd "{refs}" && exec "$0" "$@" > "{out_file}"'] + cmd,
                                       a.memory_cap_gib * 2**30)
                r[name] = (w, rss, json.loads(out_file.read_text()) if ok else None)
            else:
                w, rss, out, _ = timed(cmd, cwd=refs)
                r[name] = (w, rss, json.loads(out))
        results.append(r)

    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}. Made by `python3 benches/run.py --python <venv>/bin/python {made_by(a)}`",
        "(release build; every run alone on the machine; wall time and peak RSS from "
        + ("the process's VmHWM, polled every 0.2 s under the memory cap)." if a.memory_cap_gib else "`/usr/bin/time -v`)."),
        "Worlds: `leadcal demo --leads N` (Parquet). Job: snapshot scoring with the demo's live model,",
        "features, logistic fit, ROC/PR AUC, threshold sweep, segments of high-score non-converters.",
        "leadcal's `calibrate` also replays every hand-over (MQL/SQL crossing times), bootstraps",
        "intervals, cross-validates the penalty, back-tests the recommended config and draws the report.",
        "",
        "| world | tool | wall (s) | peak (GiB) | leadcal faster by |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        lw = r["leadcal"][0]
        lines.append(f"| {r['size']} | floor: scan + one group-by over events (Polars) | {r['floor'][0]:.1f} | {gib(r['floor'][1])} | |")
        note = "" if r.get("completed", True) else " (stopped at the memory cap: did not complete)"
        lines.append(f"| {r['size']} | **leadcal calibrate**{note} | **{lw:.1f}** | **{gib(r['leadcal'][1])}** | |")
        for name in ["polars", "pandas"]:
            if name in r:
                w, rss, j = r[name]
                if j is None:
                    lines.append(f"| {r['size']} | {name} + scikit-learn reference (stopped at the memory cap: did not complete) | {w:.1f} | {gib(rss)} | |")
                else:
                    lines.append(f"| {r['size']} | {name} + scikit-learn reference | {w:.1f} | {gib(rss)} | {w / lw:.2f}× |")
    lines += ["", "## leadcal's stages (wall seconds, `LEADCAL_TIMINGS=1`)", ""]
    names = []
    for r in results:
        for n, _ in r["stages"]:
            if n not in names:
                names.append(n)
    lines.append("| stage | " + " | ".join(r["size"] for r in results) + " |")
    lines.append("|---|" + "---|" * len(results))
    for n in names:
        row = [dict(r["stages"]).get(n, "") for r in results]
        lines.append(f"| {n} | " + " | ".join(row) + " |")
    for r in results:
        if "threads" in r:
            tw, same, total, differ = r["threads"]
            lines += ["", f"Thread count ({r['size']}): with `RAYON_NUM_THREADS=1` calibrate took {tw:.1f} s; "
                      f"{same} of {total} output files are byte-identical to the default run"
                      + (f" (different: {', '.join(differ)})." if differ else ".")]
    lines += ["", "## The references agree with leadcal", ""]
    lines.append("| world | tool | evaluable leads | converted | live AUC | model AUC |")
    lines.append("|---|---|---|---|---|---|")
    for r in results:
        for name in ["polars", "pandas"]:
            if name in r and r[name][2] is not None:
                j = r[name][2]
                lines.append(f"| {r['size']} | {name} | {j['evaluable']:,} | {j['converted']:,} | {j['live_auc']:.4f} | {j['model_auc']:.4f} |")
    Path(a.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
