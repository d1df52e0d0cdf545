/**
 * A streaming tar (POSIX ustar) writer for downloading an export folder: one 512-byte header per
 * file, the bytes, zero padding to 512, two zero blocks at the end. No dependency, no temporary
 * archive: files are read as they are sent. Export folders are sealed at rest (docs/security.md):
 * each file is opened (every chunk authenticated) as it is sent, and its header gives the
 * plaintext size.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { Keyring } from '../storage/crypto.js';
import { isSealingTemp, openStored } from '../storage/sealed-files.js';

function octal(n: number, width: number): string { return n.toString(8).padStart(width - 1, '0') + '\0'; }

function header(name: string, size: number, mtimeS: number, dir: boolean): Buffer {
  const h = Buffer.alloc(512);
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2);
    prefix = name.slice(0, cut); name = name.slice(cut + 1);
    if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`tar: path too long: ${prefix}/${name}`);
  }
  h.write(name, 0, 100, 'utf8');
  h.write(octal(dir ? 0o755 : 0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.floor(mtimeS), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(dir ? '5' : '0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0; for (let i = 0; i < 512; i++) sum += h[i];
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

async function* walk(root: string, dir: string): AsyncGenerator<{ rel: string; full: string; dir: boolean }> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = join(dir, e.name), rel = relative(root, full).split(sep).join('/');
    if (e.isDirectory()) { yield { rel: rel + '/', full, dir: true }; yield* walk(root, full); }
    else if (e.isFile() && !isSealingTemp(e.name)) yield { rel, full, dir: false }; // a key rotation's temporary file is not content
  }
}

/** The folder `root` as a tar stream, its entries under `base/`. */
export function tarFolder(root: string, base: string, keys: Keyring): Readable {
  return Readable.from((async function* () {
    yield header(`${base}/`, 0, Date.now() / 1000, true);
    for await (const e of walk(root, root)) {
      const st = await stat(e.full);
      if (e.dir) { yield header(`${base}/${e.rel}`, 0, st.mtimeMs / 1000, true); continue; }
      const { size, chunks } = await openStored(keys, e.full);
      yield header(`${base}/${e.rel}`, size, st.mtimeMs / 1000, false);
      let n = 0;
      for await (const chunk of chunks) { n += chunk.length; yield chunk; }
      if (n !== size) throw new Error(`tar: ${e.rel} changed while it was being sent`);
      if (n % 512) yield Buffer.alloc(512 - (n % 512));
    }
    yield Buffer.alloc(1024);
  })(), { objectMode: false });
}
