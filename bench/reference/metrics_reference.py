#!/usr/bin/python3
"""Reference numbers for test/eval: metrics computed independently with numpy (and scikit-learn
for the classification scores when it is installed: Debian's python3-sklearn), and the participant
bootstrap recomputed with a port of the project's Rng.  Run once, commit the JSON:

    /usr/bin/python3 bench/reference/metrics_reference.py > test/fixtures/reference/metrics.json

Not a runtime dependency of Moodlens.  NaN is written as null in the JSON.
"""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from moodlens_rng import Rng  # noqa: E402


def nan_to_none(v):
    if isinstance(v, (list, tuple)):
        return [nan_to_none(x) for x in v]
    if isinstance(v, dict):
        return {k: nan_to_none(x) for k, x in v.items()}
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v


def complete(x, y):
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    m = ~(np.isnan(x) | np.isnan(y))
    return x[m], y[m]


def ccc(x, y):
    x, y = complete(x, y)
    if len(x) < 2:
        return math.nan
    den = x.var() + y.var() + (x.mean() - y.mean()) ** 2   # numpy var: ddof=0 (population)
    if den == 0:
        return math.nan
    cov = np.mean((x - x.mean()) * (y - y.mean()))
    return 2 * cov / den


def pearson(x, y):
    x, y = complete(x, y)
    if len(x) < 2 or x.std() == 0 or y.std() == 0:
        return math.nan
    return float(np.corrcoef(x, y)[0, 1])


def mae(x, y):
    x, y = complete(x, y)
    return float(np.mean(np.abs(x - y))) if len(x) else math.nan


def rmse(x, y):
    x, y = complete(x, y)
    return float(np.sqrt(np.mean((x - y) ** 2))) if len(x) else math.nan


rs = np.random.default_rng(20261122)
x50 = rs.normal(50, 15, 50)
y50 = 0.6 * x50 + rs.normal(10, 8, 50)
xc = rs.normal(0, 1, 30)
xc -= xc.mean()
with_nan_x = rs.normal(0.5, 0.2, 40)
with_nan_y = with_nan_x * 0.8 + rs.normal(0.05, 0.1, 40)
with_nan_x[[3, 17, 25]] = np.nan
with_nan_y[[3, 8, 39]] = np.nan

regression_cases = {
    'random_n50': (x50, y50),
    'identical': (x50, x50.copy()),
    'anti_concordant_centred': (xc, -xc),
    'anti_concordant_mirrored': (x50, 2 * x50.mean() - x50),
    'shifted_plus_5': (x50, x50 + 5),
    'scaled_times_2': (x50, 2 * x50),
    'constant_actual': (np.full(10, 3.0), np.arange(10, dtype=float)),
    'both_constant_equal': (np.full(10, 3.0), np.full(10, 3.0)),
    'both_constant_different': (np.full(10, 3.0), np.full(10, 4.0)),
    'n1': (np.array([1.0]), np.array([2.0])),
    'n0': (np.array([]), np.array([])),
    'n2': (np.array([1.0, 2.0]), np.array([1.5, 3.5])),
    'nan_skipping': (with_nan_x, with_nan_y),
    'all_nan': (np.array([np.nan, 1.0, np.nan]), np.array([2.0, np.nan, np.nan])),
}
regression = {}
for name, (x, y) in regression_cases.items():
    regression[name] = {
        'actual': list(map(float, x)), 'predicted': list(map(float, y)),
        'ccc': ccc(x, y), 'pearson': pearson(x, y), 'mae': mae(x, y), 'rmse': rmse(x, y),
    }

# ── classification ──
def cls_numpy(a, p, labels):
    """Confusion matrix and scores by hand (rows actual, columns predicted; 0/0 → 0)."""
    K = len(labels)
    idx = {l: i for i, l in enumerate(labels)}
    C = np.zeros((K, K), int)
    for u, v in zip(a, p):
        C[idx[u], idx[v]] += 1
    tp = np.diag(C).astype(float)
    fp = C.sum(0) - tp
    fn = C.sum(1) - tp
    div = lambda n, d: np.where(d == 0, 0.0, n / np.where(d == 0, 1, d))
    P, R, F = div(tp, tp + fp), div(tp, tp + fn), div(2 * tp, 2 * tp + fp + fn)
    present = C.sum(1) > 0
    return {
        'labels': list(labels), 'confusion': C.tolist(),
        'accuracy': float(tp.sum() / C.sum()),
        'balancedAccuracy': float(R[present].mean()),
        'precision': {'micro': float(tp.sum() / (tp + fp).sum()), 'macro': float(P.mean())},
        'recall': {'micro': float(tp.sum() / (tp + fn).sum()), 'macro': float(R.mean())},
        'f1': {'micro': float(2 * tp.sum() / (2 * tp + fp + fn).sum()), 'macro': float(F.mean())},
        'perClass': {'precision': P.tolist(), 'recall': R.tolist(), 'f1': F.tolist(),
                     'support': C.sum(1).tolist()},
    }


def cls_sklearn(a, p, labels, out):
    try:
        from sklearn import metrics as M
    except ImportError:
        return 'numpy (scikit-learn not installed)'
    assert M.confusion_matrix(a, p, labels=labels).tolist() == out['confusion']
    assert abs(M.accuracy_score(a, p) - out['accuracy']) < 1e-12
    assert abs(M.balanced_accuracy_score(a, p) - out['balancedAccuracy']) < 1e-12
    for avg in ('micro', 'macro'):
        for name, fn in (('precision', M.precision_score), ('recall', M.recall_score), ('f1', M.f1_score)):
            v = fn(a, p, labels=labels, average=avg, zero_division=0)
            assert abs(v - out[name][avg]) < 1e-12, (name, avg, v, out[name][avg])
    return 'numpy, checked against scikit-learn'


multi_a = rs.integers(0, 4, 60)
multi_p = np.where(rs.random(60) < 0.6, multi_a, rs.integers(0, 4, 60))
never_p = multi_p.copy()
never_p[never_p == 3] = 2                       # class 3 is never predicted → precision 0/0
bin_a = rs.integers(0, 2, 40)
bin_p = np.where(rs.random(40) < 0.7, bin_a, 1 - bin_a)
str_a = list(rs.choice(['anger', 'boredom', 'neutral'], 30))
str_p = [v if rs.random() < 0.5 else str(rs.choice(['anger', 'boredom', 'neutral'])) for v in str_a]

classification = {}
source = None
for name, a, p in (('multiclass', multi_a.tolist(), multi_p.tolist()),
                   ('class_never_predicted', multi_a.tolist(), never_p.tolist()),
                   ('binary', bin_a.tolist(), bin_p.tolist()),
                   ('strings', str_a, str_p)):
    labels = sorted(set(a) | set(p))
    out = cls_numpy(a, p, labels)
    source = cls_sklearn(a, p, labels, out)
    out['actual'], out['predicted'] = a, p
    classification[name] = out
# binary scores of the positive class 1
b = classification['binary']
b['binaryPositive1'] = {'precision': b['perClass']['precision'][1], 'recall': b['perClass']['recall'][1],
                        'f1': b['perClass']['f1'][1]}
try:
    from sklearn import metrics as M
    for k, fn in (('precision', M.precision_score), ('recall', M.recall_score), ('f1', M.f1_score)):
        assert abs(fn(bin_a, bin_p) - b['binaryPositive1'][k]) < 1e-12
except ImportError:
    pass

# ── summaries and the participant bootstrap ──
G, K = 12, 3
sizes = rs.integers(1, 9, G)                     # unbalanced, some participants with one report
participant = np.repeat(np.arange(G), sizes)
rs.shuffle(participant)                          # rows of a participant interleaved
n = len(participant)
person = rs.normal(0, 0.15, (G, K))
actual = np.clip(0.5 + person[participant] + rs.normal(0, 0.1, (n, K)), 0, 1)
predicted = 0.7 * actual + 0.15 + rs.normal(0, 0.08, (n, K))
actual[rs.random((n, K)) < 0.08] = np.nan
pid = ['p%02d' % g for g in participant]
items = ['happy', 'gloomy', 'calm']

per_item = [ccc(actual[:, k], predicted[:, k]) for k in range(K)]
summary = {'perItem': dict(zip(items, per_item)), 'mean': float(np.mean(per_item)),
           'sd': float(np.std(per_item, ddof=1))}


def cluster_bootstrap(groups, stat, B, seed, level):
    """Groups in order of first appearance; each replicate draws len(groups) of them."""
    order = list(dict.fromkeys(groups))
    rows = {g: [i for i, h in enumerate(groups) if h == g] for g in order}
    rng = Rng(seed)
    reps = []
    for _ in range(B):
        drawn = [order[rng.int(len(order))] for _ in order]
        idx = np.array([i for g in drawn for i in rows[g]])
        reps.append(stat(idx))
    reps = np.array(reps)
    out = []
    a = (1 - level) / 2
    for s in range(reps.shape[1]):
        r = reps[:, s]
        r = r[~np.isnan(r)]
        out.append({'estimate': stat(np.arange(len(groups)))[s],
                    'lower': float(np.percentile(r, 100 * a)),        # numpy default: linear
                    'upper': float(np.percentile(r, 100 * (1 - a))),
                    'se': float(np.std(r, ddof=1)), 'nValid': int(len(r))})
    return out


def item_stat(idx):
    v = [ccc(actual[idx, k], predicted[idx, k]) for k in range(K)]
    f = [u for u in v if not math.isnan(u)]
    return v + [float(np.mean(f)) if f else math.nan]


boot = {}
for B, seed, level in ((200, 7, 0.95), (500, 123, 0.9)):
    ci = cluster_bootstrap(pid, item_stat, B, seed, level)
    boot['B%d_seed%d_level%g' % (B, seed, level)] = {
        'B': B, 'seed': seed, 'level': level,
        'items': dict(zip(items, ci[:K])), 'mean': ci[K],
    }

print(json.dumps(nan_to_none({
    'generator': 'bench/reference/metrics_reference.py (numpy %s)' % np.__version__,
    'classificationSource': source,
    'regression': regression,
    'classification': classification,
    'items': {'names': items, 'participant': pid,
              'actual': actual.ravel().tolist(), 'predicted': predicted.ravel().tolist(),
              'summary': summary, 'bootstrap': boot},
}), indent=None, separators=(',', ':')))
