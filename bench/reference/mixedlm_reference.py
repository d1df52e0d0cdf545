#!/usr/bin/python3
"""Reference fits for test/stats, from statsmodels' MixedLM (Debian python3-statsmodels 0.13.5).

    /usr/bin/python3 bench/reference/mixedlm_reference.py [../shared/data/sleepstudy.csv]

writes test/fixtures/reference/mixedlm.json (numbers only) and the small data sets it generates
itself (test/fixtures/reference/lmm_*.csv).  Not a runtime dependency of Moodlens.
"""
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'reference')
SLEEP = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, '..', 'shared', 'data', 'sleepstudy.csv')


def summary(res, df, group):
    """The quantities MixedLM's summary prints, plus the lme4-style SE σ²(XᵀV⁻¹X)⁻¹ for comparison."""
    names = list(res.fe_params.index)
    ci = res.conf_int()
    fe = {}
    for i, k in enumerate(names):
        fe[k] = {'coef': float(res.fe_params[k]), 'se': float(res.bse_fe[k]),
                 'z': float(res.tvalues[k]), 'p': float(res.pvalues[k]),
                 'ciLow': float(ci.loc[k, 0]), 'ciHigh': float(ci.loc[k, 1])}
    return {
        'fixed': fe,
        'groupCov': np.asarray(res.cov_re).tolist(),
        'residualVar': float(res.scale),
        'logLik': float(res.llf),
        'converged': bool(res.converged),
        'nObs': int(res.nobs),
        'nGroups': int(df[group].nunique()),
    }


def fit(df, formula, group, re_formula=None, reml=True):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        m = smf.mixedlm(formula, df, groups=df[group], re_formula=re_formula)
        best = None
        # Several optimisers; keep the best log-likelihood (statsmodels' default can stop early).
        for method in (['bfgs'], ['lbfgs'], ['powell', 'lbfgs']):
            try:
                r = m.fit(reml=reml, method=method, maxiter=5000)
            except Exception:  # noqa: BLE001
                continue
            if not (r.converged and np.isfinite(r.llf)):
                continue
            if best is None or r.llf > best.llf + 1e-9:
                best = r
        return summary(best, df, group)


def models(df, y, x, group, slopes=True):
    out = {'intercept_REML': fit(df, f'{y} ~ {x}', group, reml=True),
           'intercept_ML': fit(df, f'{y} ~ {x}', group, reml=False)}
    if slopes:
        out['slope_REML'] = fit(df, f'{y} ~ {x}', group, re_formula=f'~{x}', reml=True)
        out['slope_ML'] = fit(df, f'{y} ~ {x}', group, re_formula=f'~{x}', reml=False)
    return out


def generated():
    """Small data sets of our own, written as CSV so the TypeScript tests read the same numbers."""
    rs = np.random.default_rng(5)
    sets = {}

    # Unbalanced groups: sizes 1–14, random intercept and slope.
    sizes = np.array([1, 2, 14, 3, 9, 1, 5, 12, 7, 4, 2, 11, 6, 8, 3, 10, 1, 13, 5, 7])
    g = np.repeat(np.arange(len(sizes)), sizes)
    x = rs.normal(0, 1, len(g)) + 0.3 * g / len(sizes)
    b0 = rs.normal(0, 2.0, len(sizes))
    b1 = rs.normal(0, 0.7, len(sizes))
    y = 3 + 1.5 * x + b0[g] + b1[g] * x + rs.normal(0, 1.0, len(g))
    sets['unbalanced'] = pd.DataFrame({'group': ['g%02d' % i for i in g], 'x': x, 'y': y})

    # Mostly groups of size 1 (40 singletons) and a few larger groups.
    sizes = np.array([1] * 40 + [6, 9, 4, 7, 5])
    g = np.repeat(np.arange(len(sizes)), sizes)
    x = rs.uniform(0, 10, len(g))
    b0 = rs.normal(0, 1.5, len(sizes))
    y = -2 + 0.8 * x + b0[g] + rs.normal(0, 1.0, len(g))
    sets['singletons'] = pd.DataFrame({'group': ['s%02d' % i for i in g], 'x': x, 'y': y})

    # No group effect at all, and the noise's group means removed: the between-group spread is
    # smaller than the residual variance alone implies, so the variance estimate is on the boundary 0.
    sizes = np.full(15, 8)
    g = np.repeat(np.arange(len(sizes)), sizes)
    x = rs.normal(5, 2, len(g))
    e = rs.normal(0, 1.0, len(g))
    e -= np.array([e[g == k].mean() for k in range(len(sizes))])[g] * 0.9
    y = 1 + 2 * x + e
    sets['boundary'] = pd.DataFrame({'group': ['b%02d' % i for i in g], 'x': x, 'y': y})
    return sets


def ols(df):
    X = np.column_stack([np.ones(len(df)), df['x']])
    beta, *_ = np.linalg.lstsq(X, df['y'], rcond=None)
    return {'Intercept': float(beta[0]), 'x': float(beta[1])}


ref = {'generator': 'bench/reference/mixedlm_reference.py (statsmodels MixedLM %s)'
       % __import__('statsmodels').__version__}
if os.path.exists(SLEEP):
    sleep = pd.read_csv(SLEEP)
    ref['sleepstudy'] = models(sleep, 'Reaction', 'Days', 'Subject')
for name, df in generated().items():
    df.to_csv(os.path.join(OUT, f'lmm_{name}.csv'), index=False, float_format='%.17g')
    df = pd.read_csv(os.path.join(OUT, f'lmm_{name}.csv'))   # fit exactly what the tests read
    ref[name] = models(df, 'y', 'x', 'group', slopes=(name == 'unbalanced'))
    if name == 'boundary':
        ref[name]['ols'] = ols(df)
with open(os.path.join(OUT, 'mixedlm.json'), 'w') as f:
    json.dump(ref, f, indent=1)
print(json.dumps(ref, indent=1))
