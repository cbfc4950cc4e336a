"""Reference pipeline: pandas + scikit-learn, the way an analyst would write it in a notebook.

    python pandas_sklearn.py DATA_DIR [--since 2023-01-01] [--test-from 2025-01-01] [--format csv]
"""
import argparse
import time

import numpy as np
import pandas as pd

import common as C

t0 = time.perf_counter()
ap = argparse.ArgumentParser()
ap.add_argument("data")
ap.add_argument("--since", default="2023-01-01")
ap.add_argument("--test-from", default="2025-01-01")
ap.add_argument("--format", choices=["parquet", "csv"], default="parquet")
a = ap.parse_args()
since, test_from = pd.Timestamp(a.since), pd.Timestamp(a.test_from)

if a.format == "csv":
    # As an analyst reads CSV exports with pandas: the date columns parsed.
    leads = pd.read_csv(f"{a.data}/leads.csv", parse_dates=["created_at"])
    events = pd.read_csv(f"{a.data}/events.csv", parse_dates=["occurred_at"])
    outcomes = pd.read_csv(f"{a.data}/outcomes.csv", parse_dates=["reached_at"])
else:
    leads = pd.read_parquet(f"{a.data}/leads.parquet")
    events = pd.read_parquet(f"{a.data}/events.parquet")
    outcomes = pd.read_parquet(f"{a.data}/outcomes.parquet")
data_end = max(leads["created_at"].max(), events["occurred_at"].max(), outcomes["reached_at"].max())

# Labels.
won = outcomes[outcomes["stage"] == C.TARGET].groupby("lead_id")["reached_at"].min().rename("won_at")
df = leads[leads["created_at"] >= since].copy()
df["snapshot"] = df["created_at"] + pd.Timedelta(days=C.SNAPSHOT_DAYS)
df = df.join(won, on="lead_id")
horizon = pd.Timedelta(days=C.HORIZON_DAYS)
df = df[df["snapshot"] + horizon <= data_end]
df = df[df["won_at"].isna() | (df["won_at"] > df["snapshot"])]
df["converted"] = df["won_at"].notna() & (df["won_at"] <= df["snapshot"] + horizon)
df = df.sort_values("created_at").reset_index(drop=True)

# Events before each lead's snapshot.
ev = events.merge(df[["lead_id", "snapshot"]], on="lead_id")
ev = ev[ev["occurred_at"] <= ev["snapshot"]]
ev["recent"] = ev["occurred_at"] > ev["snapshot"] - pd.Timedelta(days=C.WINDOW_DAYS)
fires = {}
for name, etype, assets, _, _, decays in C.IMPLICIT:
    m = ev["event_type"] == etype
    if assets:
        m &= ev["asset_id"].isin(assets)
    if decays:
        m &= ev["recent"]
    fires[f"fire_{name}"] = ev.loc[m].groupby("lead_id").size()
fires = pd.DataFrame(fires)
per_type = pd.crosstab(ev["lead_id"], ev["event_type"]).reindex(columns=C.EVENT_TYPES, fill_value=0)
df = df.join(fires, on="lead_id").join(per_type, on="lead_id")
df[list(fires.columns) + C.EVENT_TYPES] = df[list(fires.columns) + C.EVENT_TYPES].fillna(0)
t_load = time.perf_counter()

# Live score at the snapshot.
score = np.zeros(len(df))
for attr, rules in C.EXPLICIT.items():
    for values, pts in rules:
        score += pts * df[attr].isin(values).to_numpy()
size = df["company_size"].astype(float)
for lo, hi, pts in C.SIZE_RANGES:
    score += pts * ((size >= lo) & ((size < hi) if hi else True)).to_numpy()
budget = df["budget_confirmed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
score += C.BUDGET_TRUE * budget
for name, _, _, steps, cap, _ in C.IMPLICIT:
    score += C.rule_points(df[f"fire_{name}"].to_numpy(), steps, cap)

# Features.
y = df["converted"].to_numpy()
onehot = pd.get_dummies(df[C.CATEGORICAL].fillna("(missing)"))
x = np.column_stack([
    np.log1p(df[C.EVENT_TYPES].to_numpy(dtype=float)),
    onehot.to_numpy(dtype=float),
    np.log1p(size.fillna(size.median()).to_numpy()),
    budget.astype(float),
])
test = (df["created_at"] >= test_from).to_numpy()
t_features = time.perf_counter()
prob = C.fit_and_score(x[~test], y[~test], x[test])
t_fit = time.perf_counter()

yt, st = y[test], score[test]
months = (df.loc[test, "created_at"].max() - test_from).days / 30.4375
high = score >= C.SQL
seg = C.segments({c: df[c].fillna("(missing)").astype(str).to_numpy()[high] for c in C.CATEGORICAL}, y[high])
t_end = time.perf_counter()
C.report("pandas", {
    "evaluable": int(len(df)),
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
