"""Build the small real-device test files in test/fixtures/actigraphy/ from the public test files of
pygt3x, read.gt3x and GGIRread (fetched separately; paths given on the command line). Run once;
the outputs are committed. Python standard library only.

  python3 bench/actigraphy/reference/make_fixtures.py PYGT3X_RESOURCES READGT3X_EXTDATA GGIRREAD_TESTFILES

- ISM_Enabled.gt3x (pygt3x tests/resources): copied unchanged (16 kB; stored entries; idle sleep mode).
- TAS1H30182785_first60s.gt3x (read.gt3x inst/extdata/TAS1H30182785_2019-09-17.gt3x): log.bin cut
  before the first activity record of second 60 (whole records; idle sleep mode from 10 s to 14 s), deflated, info.txt
  written after log.bin as in the original, its "Last Sample Time" set to the cut; with the matching
  first 60 s of ActiLife's CSV export of the same file (TAS1H30182785_first60s.actilife.csv.gz).
- neo_first60s.gt3x (pygt3x tests/resources/neo.gt3x, NHANES layout): info.txt, log.txt (empty; pygt3x needs it), activity.bin cut to
  the first 60 s (1,800 samples = 8,100 bytes) and lux.bin cut to 60 s; the device's other entries
  (firmware image, icon, memory dumps) left out; with the first 1,800 rows of ActiLife's export (neo.csv → neo_first60s.actilife.csv.gz).
- GENEActiv_testfile.bin (GGIRread inst/testfiles): copied unchanged (64 kB, itself cut by GGIRread's authors).
"""
import gzip, os, shutil, struct, sys, zipfile

pyres, rgt3x, ggir = sys.argv[1:4]
out = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'test', 'fixtures', 'actigraphy')
os.makedirs(out, exist_ok=True)

def copy(src, name):
    shutil.copyfile(src, os.path.join(out, name))

copy(os.path.join(pyres, 'ISM_Enabled.gt3x'), 'ISM_Enabled.gt3x')
copy(os.path.join(ggir, 'GENEActiv_testfile.bin'), 'GENEActiv_testfile.bin')

TICKS_1970 = 621355968000000000

def info_text(z):
    return z.read('info.txt').decode('utf-8-sig')

def set_info(text, key, value):
    lines = text.splitlines()
    return '\r\n'.join(f'{key}: {value}' if l.split(':')[0] == key else l for l in lines) + '\r\n'

# TAS: first 60 s.
src = zipfile.ZipFile(os.path.join(rgt3x, 'TAS1H30182785_2019-09-17.gt3x'))
log = src.read('log.bin')
info = info_text(src)
start = (int([l for l in info.splitlines() if l.startswith('Start Date')][0].split(':')[1]) - TICKS_1970) // 10**7
cut_at = start + 60
p = 0
while p + 8 <= len(log):
    ts, size = struct.unpack('<IH', log[p + 2:p + 8])
    if log[p + 1] in (0x00, 0x1A) and ts >= cut_at:  # an activity record is written after its second ends
        break
    p += 9 + size
with zipfile.ZipFile(os.path.join(out, 'TAS1H30182785_first60s.gt3x'), 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('log.bin', log[:p])
    z.writestr('info.txt', set_info(info, 'Last Sample Time', cut_at * 10**7 + TICKS_1970))
rows = gzip.open(os.path.join(rgt3x, 'TAS1H30182785_2019-09-17.csv.gz')).read().decode().splitlines()
with gzip.open(os.path.join(out, 'TAS1H30182785_first60s.actilife.csv.gz'), 'wt') as f:
    f.write('\n'.join(rows[:11 + 60 * 100]) + '\n')

# NHANES neo.gt3x: first 60 s.
src = zipfile.ZipFile(os.path.join(pyres, 'neo.gt3x'))
with zipfile.ZipFile(os.path.join(out, 'neo_first60s.gt3x'), 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('info.txt', src.read('info.txt'))
    z.writestr('activity.bin', src.read('activity.bin')[:60 * 30 * 9 // 2])
    z.writestr('lux.bin', src.read('lux.bin')[:60 * 2])
    z.writestr('log.txt', src.read('log.txt'))
rows = open(os.path.join(pyres, 'neo.csv')).read().splitlines()
with gzip.open(os.path.join(out, 'neo_first60s.actilife.csv.gz'), 'wt') as f:
    f.write('\n'.join(rows[:11 + 60 * 30]) + '\n')
print('written to', os.path.abspath(out))
