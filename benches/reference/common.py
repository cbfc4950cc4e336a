"""What both reference pipelines share: the demo's live model as an analyst would hard-code it,
the label settings, and the model/metric/segment steps that run on plain numpy arrays.

The pipelines do the job `leadcal calibrate` does, the way an analyst would write it:
snapshot scoring with the live model, per-event-type features, a logistic fit, ROC AUC, PR AUC
and a threshold sweep on the test period, and single-attribute and pair segments of high-score
non-converters (chi-square test, Benjamini-Hochberg).
"""
import itertools
import json
import sys

import numpy as np
from scipy.stats import chi2
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

SNAPSHOT_DAYS = 30
HORIZON_DAYS = 180
WINDOW_DAYS = 365
TARGET = "won"
SQL = 80
MIN_GROUP = 30

# Explicit points: attribute -> list of (predicate, points).
EXPLICIT = {
    "job_level": [({"C-Level", "VP"}, 15), ({"Director"}, 10), ({"Manager"}, 5), ({"Student"}, 10)],
    "industry": [({"Software", "Financial Services"}, 10), ({"Manufacturing", "Education"}, 5)],
    "email_type": [({"freemail"}, -10)],
}
SIZE_RANGES = [(50, 1000, 10), (1000, None, 5)]
BUDGET_TRUE = 10

# Implicit rules: (name, event_type, asset filter, steps, cap, decays).
CASE_STUDIES = ["cs-analytics", "cs-automation", "cs-security", "cs-integration"]
IMPLICIT = [
    ("email_open", "email_open", None, [1, 2, 3], 20, True),
    ("email_click", "email_click", None, [3], 15, True),
    ("download", "download", None, [10, 20], 40, True),
    ("case_study", "download", CASE_STUDIES, [5], None, True),
    ("webinar_attended", "webinar_attended", None, [15], None, True),
    ("pricing_page_view", "pricing_page_view", None, [3], None, True),
    ("demo_request", "demo_request", None, [30], None, False),
    ("careers_page_view", "careers_page_view", None, [5], None, True),
    ("offer_ignored", "offer_ignored", None, [-10], -30, True),
    ("email_unsubscribe", "email_unsubscribe", None, [-20], None, True),
]
EVENT_TYPES = [
    "email_open", "email_click", "download", "webinar_attended", "pricing_page_view",
    "demo_request", "careers_page_view", "offer_ignored", "email_unsubscribe", "blog_view",
]
CATEGORICAL = ["region", "country", "industry", "job_level", "role", "source", "email_type"]


def rule_points(counts, steps, cap):
    """Points of a rule fired `counts` times: progressive steps, the last step repeating."""
    counts = np.asarray(counts, dtype=float)
    total = np.zeros_like(counts)
    for k, p in enumerate(steps[:-1]):
        total += p * (counts > k)
    last = len(steps) - 1
    total += steps[-1] * np.clip(counts - last, 0, None)
    if cap is not None:
        total = np.minimum(total, cap) if cap > 0 else np.maximum(total, cap)
    return total


def fit_and_score(x_train, y_train, x_test):
    scaler = StandardScaler().fit(x_train)
    model = LogisticRegression(max_iter=1000).fit(scaler.transform(x_train), y_train)
    return model.predict_proba(scaler.transform(x_test))[:, 1]


def sweep(score, y, months):
    rows = []
    for thr in range(-40, 201, 5):
        handed = score >= thr
        n = int(handed.sum())
        tp = int((handed & y).sum())
        rows.append({
            "threshold": thr,
            "handovers_per_month": n / months,
            "precision": tp / n if n else None,
            "recall": tp / int(y.sum()) if y.sum() else None,
        })
    return rows


def segments(columns, y):
    """Single values and pairs of values among high-score leads: conversion rate, lift and a
    chi-square test of the group against the rest, Benjamini-Hochberg over all groups."""
    n_all, k_all = len(y), int(y.sum())
    groups = []
    keys = [(c,) for c in columns] + list(itertools.combinations(columns, 2))
    for key in keys:
        codes = None
        for c in key:
            v = columns[c]
            codes = v if codes is None else np.char.add(np.char.add(codes, "|"), v)
        values, inverse = np.unique(codes, return_inverse=True)
        n = np.bincount(inverse)
        k = np.bincount(inverse, weights=y.astype(float))
        for i in np.flatnonzero(n >= MIN_GROUP):
            groups.append((key, values[i], int(n[i]), int(k[i])))
    n = np.array([g[2] for g in groups], dtype=float)
    k = np.array([g[3] for g in groups], dtype=float)
    # 2x2: group vs rest, converted vs not; Yates-corrected chi-square.
    a, b = k, n - k
    c, d = k_all - k, (n_all - n) - (k_all - k)
    num = n_all * (np.abs(a * d - b * c) - n_all / 2).clip(0) ** 2
    den = (a + b) * (c + d) * (a + c) * (b + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(den > 0, num / den, 0.0)
    p = chi2.sf(stat, 1)
    order = np.argsort(p)
    q = np.empty_like(p)
    ranked = p[order] * len(p) / (np.arange(len(p)) + 1)
    q[order] = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1)
    rate = k / n
    worst = np.argsort(rate)[:10]
    return {
        "groups": len(groups),
        "significant": int((q < 0.05).sum()),
        "worst": [
            {"group": "&".join(groups[i][0]), "value": str(groups[i][1]), "leads": int(n[i]),
             "rate": float(rate[i]), "q": float(q[i])}
            for i in worst
        ],
    }


def report(name, out):
    json.dump(out, sys.stdout, indent=1, default=float)
    sys.stdout.write("\n")
