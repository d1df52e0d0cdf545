"""Reference check of the .gt3x reader against pygt3x (ActiGraph's own Python reader) and, where a
file comes with one, ActiLife's CSV export. pygt3x is run from its source (github.com/actigraph/pygt3x,
GPL-3.0; never a dependency of the project) with numpy and pandas:

  PYTHONPATH=/path/to/pygt3x-source python3 bench/actigraphy/reference/gt3x_reference.py \
      [--write test/fixtures/actigraphy/gt3x-reference.json] FILE.gt3x[=ACTILIFE.csv[.gz]] ...

For each file it runs the project (`npx tsx scripts/actigraphy/dump-samples.ts FILE --fill last`) and
pygt3x, matches samples by time (wall clock, to the millisecond), and prints how many pygt3x samples the
project has and the largest differences. Values compared are pygt3x's calibrated ones computed in
double precision, `FileReader.calibrate_acceleration(raw)` = raw / Acceleration Scale (its `to_pandas`
rounds to float32; that step is skipped), for the NHANES layout pygt3x's own round(raw/341, 3).
With --write, the JSON holds per file the sample count and SHA-256 digests of pygt3x's values as
little-endian float64 arrays and of its times in integer milliseconds, for test/signal/actigraphy-gt3x.test.ts.
"""
import csv, gzip, hashlib, io, json, os, subprocess, sys, tempfile, time
import numpy as np
from pygt3x.reader import FileReader

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..')
args = sys.argv[1:]
write = None
if args and args[0] == '--write':
    write = args[1]; args = args[2:]


def ours(path):
    with tempfile.NamedTemporaryFile(suffix='.csv', delete=False) as f:
        out = f.name
    t = time.perf_counter()
    r = subprocess.run(['npx', 'tsx', 'scripts/actigraphy/dump-samples.ts', os.path.abspath(path), out, '--fill', 'last'],
                       cwd=ROOT, capture_output=True, text=True, check=True)
    meta = json.loads(r.stderr.strip().splitlines()[-1])
    a = np.loadtxt(out, delimiter=',', ndmin=2) if os.path.getsize(out) else np.empty((0, 4))
    os.unlink(out)
    return a, meta


def digest(a):
    return hashlib.sha256(np.ascontiguousarray(a, dtype='<f8').tobytes()).hexdigest()


def actilife(path):
    op = gzip.open if path.endswith('.gz') else open
    with op(path, 'rt') as f:
        lines = f.read().splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith('Accelerometer X'))
    return np.array([[float(v) for v in l.split(',')[:3]] for l in lines[i + 1:] if l.strip()])


fixture = {}
for spec in args:
    path, _, al = spec.partition('=')
    name = os.path.basename(path)
    with FileReader(path) as r:
        raw = r.acceleration
        tz = r.info.timezone
        if r.nhanes:
            vals = raw[:, 1:4]           # pygt3x: round(raw / 341, 3), y,x,z reordered to x,y,z
            # pygt3x times the NHANES layout from Start Date / 1e9 (ticks, not seconds): not comparable.
            t_local = None
        else:
            vals = r.calibrate_acceleration(raw[:, 1:4])
            t_local = raw[:, 0]
    a, meta = ours(path)
    off = meta['info']['header'].get('utcOffset', '0 h')
    off_s = float(off.split()[0]) * 3600
    print(f'{name}: pygt3x {len(vals)} samples, project {len(a)} ({meta["info"]["header"].get("filledSeconds", "no")} filled seconds)')
    if t_local is not None:
        ms_p = np.round(t_local * 1000).astype(np.int64)
        ms_o = np.round((a[:, 0] + off_s) * 1000).astype(np.int64)
        idx = np.searchsorted(ms_o, ms_p)
        ok = (idx < len(ms_o)) & (ms_o[np.minimum(idx, len(ms_o) - 1)] == ms_p)
        m = idx[ok]
        d = np.abs(a[m, 1:4] - vals[ok])
        print(f'  pygt3x samples found in the project (same time to the ms): {ok.sum()} of {len(vals)}; '
              f'max |Δ| {d.max() if d.size else 0:.3g} g; bit-identical values: {int((d == 0).all(axis=1).sum())}; '
              f'max |Δt| {np.abs(a[m, 0] + off_s - t_local[ok]).max():.3g} s')
    else:
        n = min(len(a), len(vals))
        d = np.abs(np.round(a[:n, 1:4], 3) - vals[:n])
        print(f'  NHANES: first {n} samples in order; max |round(project, 3) − pygt3x| {d.max():.3g} g; '
              f'max |project − pygt3x| {np.abs(a[:n, 1:4] - vals[:n]).max():.3g} g (pygt3x rounds to 3 decimals)')
    if al:
        ref = actilife(al)
        n = min(len(ref), len(a))
        d = np.abs(a[:n, 1:4] - ref[:n])
        print(f'  ActiLife CSV {len(ref)} rows, project {len(a)}; max |project − ActiLife| {d.max():.3g} g '
              f'(ActiLife writes 3 decimals); rows differing after rounding half away from zero: '
              f'{int((np.abs(np.sign(a[:n, 1:4]) * np.floor(np.abs(a[:n, 1:4]) * 1000 + 0.5) / 1000 - ref[:n]) > 1e-9).any(axis=1).sum())}')
    entry = {'pygt3xSamples': int(len(vals)), 'x': digest(vals[:, 0]), 'y': digest(vals[:, 1]), 'z': digest(vals[:, 2]),
             'nhanesRounded3': bool(t_local is None)}
    if t_local is not None:
        entry['tMs'] = digest(np.round(t_local * 1000))
        entry['first'] = [float(t_local[0]), *map(float, vals[0])]
    fixture[name] = entry

if write:
    with open(write, 'w') as f:
        json.dump({'generatedBy': 'bench/actigraphy/reference/gt3x_reference.py (pygt3x ' + subprocess.run(
            ['git', '-C', os.environ.get('PYGT3X_REPO', '.'), 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip() + ')',
            'files': fixture}, f, indent=1)
    print('wrote', write)
