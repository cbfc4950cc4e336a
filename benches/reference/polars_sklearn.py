"""Reference pipeline: Python Polars (lazy, streaming) + scikit-learn.

    python polars_sklearn.py DATA_DIR [--since 2023-01-01] [--test-from 2025-01-01] [--format csv]
"""
import argparse
import datetime as dt
import time

import numpy as np
import polars as pl

import common as C

t0 = time.perf_counter()
ap = argparse.ArgumentParser()
ap.add_argument("data")
ap.add_argument("--since", default="2023-01-01")
ap.add_argument("--test-from", default="2025-01-01")
ap.add_argument("--format", choices=["parquet", "csv"], default="parquet")
a = ap.parse_args()
since = dt.datetime.fromisoformat(a.since)
test_from = dt.datetime.fromisoformat(a.test_from)

if a.format == "csv":
    # As an analyst reads CSV exports with Polars: dates parsed, ids as they come.
    def scan(name):
        return pl.scan_csv(f"{a.data}/{name}.csv", try_parse_dates=True)
else:
    def scan(name):
        return pl.scan_parquet(f"{a.data}/{name}.parquet")
leads = scan("leads")
events = scan("events")
outcomes = scan("outcomes")
data_end = pl.concat([
    leads.select(pl.col("created_at").max()),
    events.select(pl.col("occurred_at").max().alias("created_at")),
    outcomes.select(pl.col("reached_at").max().alias("created_at")),
]).select(pl.col("created_at").max()).collect().item()

# Labels: snapshot, first win, maturity.
won = (
    outcomes.filter(pl.col("stage") == C.TARGET)
    .group_by("lead_id")
    .agg(pl.col("reached_at").min().alias("won_at"))
)
base = (
    leads.filter(pl.col("created_at") >= since)
    .with_columns(snapshot=pl.col("created_at") + pl.duration(days=C.SNAPSHOT_DAYS))
    .join(won, on="lead_id", how="left")
    .filter(pl.col("snapshot") + pl.duration(days=C.HORIZON_DAYS) <= data_end)
    .filter(pl.col("won_at").is_null() | (pl.col("won_at") > pl.col("snapshot")))
    .with_columns(
        converted=pl.col("won_at").is_not_null()
        & (pl.col("won_at") <= pl.col("snapshot") + pl.duration(days=C.HORIZON_DAYS))
    )
)

# Events before each lead's snapshot: rule fire counts (365-day window) and per-type counts.
ev = (
    events.join(base.select("lead_id", "snapshot"), on="lead_id")
    .filter(pl.col("occurred_at") <= pl.col("snapshot"))
    .with_columns(recent=pl.col("occurred_at") > pl.col("snapshot") - pl.duration(days=C.WINDOW_DAYS))
)
aggs = []
for name, etype, assets, _, _, decays in C.IMPLICIT:
    cond = pl.col("event_type") == etype
    if assets:
        cond = cond & pl.col("asset_id").is_in(assets)
    if decays:
        cond = cond & pl.col("recent")
    aggs.append(cond.sum().alias(f"fire_{name}"))
for etype in C.EVENT_TYPES:
    aggs.append((pl.col("event_type") == etype).sum().alias(f"n_{etype}"))
counts = ev.group_by("lead_id").agg(aggs)
df = (
    base.join(counts, on="lead_id", how="left")
    .fill_null(strategy="zero")
    .sort("created_at")
    .collect(engine="streaming")
)
t_load = time.perf_counter()

# Live score at the snapshot.
score = np.zeros(df.height)
for attr, rules in C.EXPLICIT.items():
    col = df[attr].to_numpy()
    for values, pts in rules:
        score += pts * np.isin(col, list(values))
size = df["company_size"].to_numpy().astype(float)
for lo, hi, pts in C.SIZE_RANGES:
    score += pts * ((size >= lo) & ((size < hi) if hi else True))
score += C.BUDGET_TRUE * (df["budget_confirmed"].fill_null(False).to_numpy())
for name, _, _, steps, cap, _ in C.IMPLICIT:
    score += C.rule_points(df[f"fire_{name}"].to_numpy(), steps, cap)

# Features: per-event-type counts, one-hot attributes, log company size.
y = df["converted"].to_numpy()
onehot = df.select(C.CATEGORICAL).fill_null("(missing)").to_dummies()
x = np.column_stack([
    np.log1p(df.select([f"n_{t}" for t in C.EVENT_TYPES]).to_numpy().astype(float)),
    onehot.to_numpy().astype(float),
    np.log1p(np.nan_to_num(size, nan=np.nanmedian(size))),
    df["budget_confirmed"].fill_null(False).to_numpy().astype(float),
])
test = (df["created_at"] >= test_from).to_numpy()
t_features = time.perf_counter()
prob = C.fit_and_score(x[~test], y[~test], x[test])
t_fit = time.perf_counter()

yt, st = y[test], score[test]
months = (df["created_at"].filter(test).max() - test_from).days / 30.4375
high = score >= C.SQL
seg = C.segments({c: df[c].fill_null("(missing)").to_numpy().astype(str)[high] for c in C.CATEGORICAL}, y[high])
t_end = time.perf_counter()
C.report("polars", {
    "evaluable": int(df.height),
    "converted": int(y.sum()),
    "test": int(test.sum()),
    "live_auc": C.roc_auc_score(yt, st),
    "model_auc": C.roc_auc_score(yt, prob),
    "live_pr_auc": C.average_precision_score(yt, st),
    "model_pr_auc": C.average_precision_score(yt, prob),
    "sweep_points": len(C.sweep(st, yt, months)),
    "segments": seg["groups"],
    "significant": seg["significant"],
    "worst": seg["worst"][:3],
    "seconds": {"load_and_join": t_load - t0, "score_and_features": t_features - t_load,
                "fit": t_fit - t_features, "metrics_and_segments": t_end - t_fit, "total": t_end - t0},
})
