"""Reference values for the GENEActiv .bin reader, written from the format description (GENEActiv
instructions, "Decoding .bin files"; the same formula as GGIRread's GENEActivReader.cpp) and
independently of the TypeScript code. R (and so GGIRread/GENEAread) is not needed; GGIRread's own test
expectations for its test file are checked by test/signal/actigraphy-geneactiv-bin.test.ts as well.

  python3 bench/actigraphy/reference/geneactiv_reference.py FILE.bin [--write OUT.json]

Per page: the "Page Time" (device wall clock, header "Time Zone" offset) and "Measurement Frequency";
the hex line holds 300 samples of 12 hex digits: x, y, z (3 digits each, 12-bit two's complement) and
light/button (3 digits). Calibrated g = (raw * 100 - offset) / gain. Only whole 12-digit samples of a
cut-off last line are kept. Prints the sample count and SHA-256 digests of x, y, z (float64,
little-endian) and of the times in integer milliseconds (UTC).
"""
import calendar, hashlib, json, re, struct, sys

path = sys.argv[1]
write = sys.argv[sys.argv.index('--write') + 1] if '--write' in sys.argv else None
text = open(path, 'rb').read().decode('latin-1')
head, *pages = re.split(r'\r?\nRecorded Data\r?\n', text)
h = {}
for line in head.splitlines():
    k, sep, v = line.partition(':')
    if sep:
        h[k.strip()] = v.strip()
gain = [float(h[f'{a} gain']) for a in 'xyz']
off = [float(h[f'{a} offset']) for a in 'xyz']
m = re.match(r'GMT\s*([+-])(\d{1,2}):(\d{2})', h.get('Time Zone', 'GMT +00:00'))
tz = (1 if m.group(1) == '+' else -1) * (int(m.group(2)) * 3600 + int(m.group(3)) * 60)

def s12(hexdigits):
    v = int(hexdigits, 16)
    return v - 4096 if v >= 2048 else v

t, x, y, z = [], [], [], []
for page in pages:
    lines = page.splitlines()
    kv = dict(l.split(':', 1) for l in lines if ':' in l)
    pt = re.match(r'(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+):(\d+)', kv['Page Time'].strip())
    y0, mo, d, hh, mi, ss, ms = map(int, pt.groups())
    wall = calendar.timegm((y0, mo, d, hh, mi, ss)) + ms / 1000
    freq = float(kv['Measurement Frequency'])
    data = next(l for l in lines if re.fullmatch(r'[0-9A-Fa-f]{12,}', l.strip())).strip()
    for i in range(len(data) // 12):
        s = data[12 * i:12 * i + 12]
        raw = [s12(s[0:3]), s12(s[3:6]), s12(s[6:9])]
        cal = [(raw[k] * 100 - off[k]) / gain[k] for k in range(3)]
        t.append(wall - tz + i / freq)
        x.append(cal[0]); y.append(cal[1]); z.append(cal[2])

dig = lambda a: hashlib.sha256(struct.pack(f'<{len(a)}d', *a)).hexdigest()
out = {'samples': len(t), 'pages': len(pages), 'x': dig(x), 'y': dig(y), 'z': dig(z),
       'tMs': dig([float(round(v * 1000)) for v in t]), 'first': [t[0], x[0], y[0], z[0]], 'last': [t[-1], x[-1], y[-1], z[-1]]}
print(json.dumps(out, indent=1))
if write:
    with open(write, 'w') as f:
        json.dump({'generatedBy': 'bench/actigraphy/reference/geneactiv_reference.py', 'files': {path.split('/')[-1]: out}}, f, indent=1)
