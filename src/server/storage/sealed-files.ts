/**
 * Files at rest: sealed with the data key (crypto.ts, chunked AES-256-GCM), created 0600 in
 * folders 0700 whatever the umask (a mode passed to open/mkdir can only lose bits to the umask,
 * and what exists already is chmod-ed). Used for speech recordings, export folders and, at start,
 * for sealing what an older version left in plaintext.
 */
import { chmod, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FILE_HEADER_BYTES, fileKeyId, type Keyring } from './crypto.js';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;
/** Suffix of the temporary file a re-seal writes next to the file it replaces. */
const SEALING_SUFFIX = '.sealing';

/** Is this the temporary file of a re-seal in progress (not part of the folder's content)? */
export const isSealingTemp = (name: string) => name.endsWith(SEALING_SUFFIX);

/** mkdir -p with mode 0700 (every level it creates), and the folder itself chmod-ed 0700. */
export async function mkdirPrivate(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE);
}

/** Create a new file for writing, mode 0600 (fails if it exists). */
export async function createPrivate(path: string): Promise<FileHandle> {
  const fh = await open(path, 'wx', FILE_MODE);
  await fh.chmod(FILE_MODE);
  return fh;
}

/** Write sealed bytes of a stream into a FileHandle. */
export class SealedFileWriter {
  private sealer;
  private started = false;
  bytes = 0;
  constructor(private fh: FileHandle, keys: Keyring) { this.sealer = keys.fileSealer(); }
  async write(chunk: Buffer): Promise<void> {
    if (!this.started) { await this.fh.write(this.sealer.header); this.started = true; }
    this.bytes += chunk.length;
    const out = this.sealer.update(chunk);
    if (out.length) await this.fh.write(out);
  }
  async end(): Promise<void> {
    if (!this.started) { await this.fh.write(this.sealer.header); this.started = true; }
    await this.fh.write(this.sealer.final());
  }
}

/** The first FILE_HEADER_BYTES bytes of a file (fewer if it is shorter). */
export async function readHead(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(FILE_HEADER_BYTES);
    const { bytesRead } = await fh.read(b, 0, b.length, 0);
    return b.subarray(0, bytesRead);
  } finally { await fh.close(); }
}

/**
 * A stored file opened once (one file descriptor, so a re-seal renamed over it meanwhile does
 * not mix two files): its plaintext size and its plaintext as a stream of authenticated chunks.
 * A file without the envelope header is plaintext from a version before encryption and is read
 * as it is. Iterate `chunks` to the end (or break): that closes the file.
 */
export async function openStored(keys: Keyring, path: string): Promise<{ size: number; chunks: AsyncGenerator<Buffer> }> {
  const fh = await open(path, 'r');
  let handed = false;
  try {
    const st = await fh.stat();
    const head = Buffer.alloc(FILE_HEADER_BYTES);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const sealed = fileKeyId(head.subarray(0, bytesRead)) !== null;
    const opener = sealed ? keys.fileOpener(head, 'file', path) : null;
    const size = opener ? opener.plainSize(st.size) : st.size;
    async function* chunks(): AsyncGenerator<Buffer> {
      try {
        let pos = opener ? FILE_HEADER_BYTES : 0;
        for (;;) {
          const buf = Buffer.allocUnsafe(256 * 1024);
          const { bytesRead: n } = await fh.read(buf, 0, buf.length, pos);
          if (n === 0) break;
          pos += n;
          const out = opener ? opener.update(buf.subarray(0, n)) : buf.subarray(0, n);
          if (out.length) yield out;
        }
        if (opener) { const last = opener.final(); if (last.length) yield last; }
      } finally { await fh.close(); }
    }
    handed = true;
    return { size, chunks: chunks() };
  } finally { if (!handed) await fh.close(); }
}

/** A stored file's plaintext, as a stream of authenticated chunks (see openStored). */
export async function* openFileStream(keys: Keyring, path: string): AsyncGenerator<Buffer> {
  yield* (await openStored(keys, path)).chunks;
}

/** Plaintext size of a stored file (sealed or legacy plaintext). */
export async function plainSize(keys: Keyring, path: string): Promise<number> {
  const [head, st] = await Promise.all([readHead(path), stat(path)]);
  if (fileKeyId(head) === null) return st.size;
  return keys.fileOpener(head, 'file', path).plainSize(st.size);
}

/** A stored file's whole plaintext, in a buffer of its own (transferable to a worker). */
export async function openFile(keys: Keyring, path: string): Promise<Buffer> {
  const { size, chunks } = await openStored(keys, path);
  const out = Buffer.allocUnsafeSlow(size);
  let off = 0;
  for await (const c of chunks) {
    if (off + c.length > size) throw new Error(`${path} changed while it was being read`);
    c.copy(out, off); off += c.length;
  }
  if (off !== size) throw new Error(`${path} changed while it was being read`);
  return out;
}

/** Write a stored file's content to a new file `dst` (0600) sealed under the primary key, fsynced. */
export async function copySealed(keys: Keyring, src: string, dst: string): Promise<void> {
  await copyWith(dst, async (fh) => {
    const w = new SealedFileWriter(fh, keys);
    for await (const c of openFileStream(keys, src)) await w.write(c);
    await w.end();
  });
}

/** Write a stored file's plaintext to a new file `dst` (0600): only for a tool that needs a file (ffmpeg), in the 0700 tmp folder. */
export async function copyPlain(keys: Keyring, src: string, dst: string): Promise<void> {
  await copyWith(dst, async (fh) => { for await (const c of openFileStream(keys, src)) await fh.write(c); });
}

async function copyWith(dst: string, fill: (fh: FileHandle) => Promise<void>): Promise<void> {
  const fh = await createPrivate(dst);
  let ok = false;
  try { await fill(fh); await fh.sync(); ok = true; } finally {
    await fh.close();
    if (!ok) await unlink(dst).catch(() => {});
  }
}

/** fsync a folder (after a rename into it). */
export async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try { await dh.sync(); } finally { await dh.close(); }
}

/**
 * Seal a file in place under the keyring's primary key: plaintext (an older version's) is
 * sealed, a file sealed under another key is opened and sealed again (key rotation). Written to
 * a temporary file beside it, fsynced, renamed over it. Returns false when it was already sealed
 * under the primary key (then only its mode is set to 0600).
 */
export async function resealFile(keys: Keyring, path: string): Promise<boolean> {
  const head = await readHead(path);
  if (fileKeyId(head) === keys.primaryId) { await chmod(path, FILE_MODE); return false; }
  const tmp = `${path}.${randomBytes(6).toString('hex')}${SEALING_SUFFIX}`;
  const fh = await createPrivate(tmp);
  let ok = false;
  try {
    const w = new SealedFileWriter(fh, keys);
    for await (const c of openFileStream(keys, path)) await w.write(c);
    await w.end();
    await fh.sync();
    ok = true;
  } finally {
    await fh.close();
    if (!ok) await unlink(tmp).catch(() => {});
  }
  await rename(tmp, path);
  await syncDir(dirname(path));
  return true;
}

export interface SealTreeResult { sealed: number; files: number; dirs: number; skipped: string[] }

export interface SealTreeOptions {
  /** Leave a file alone (another writer's temporary file). */
  skip?: (name: string) => boolean;
  /** Runs after a file was rewritten (rotation: drop a speech file whose row went meanwhile). */
  after?: (path: string) => Promise<void>;
  /** Plaintext files: seal them (default) or leave them (an export a running job is still writing). */
  plaintext?: 'seal' | 'leave';
  /** Remove re-seal temporaries a crash left (only when no other process can be sealing: at start). */
  removeStale?: boolean;
  /** Note a file that does not open (instead of failing): a file being copied while a rotation runs. */
  tolerate?: boolean;
}

/** Walk a folder: folders chmod 0700, files sealed under the primary key (resealFile) and 0600. */
export async function sealTree(keys: Keyring, root: string, opts: SealTreeOptions = {}): Promise<SealTreeResult> {
  const res: SealTreeResult = { sealed: 0, files: 0, dirs: 0, skipped: [] };
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try { entries = await readdir(dir, { withFileTypes: true }); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; throw e; }
    await chmod(dir, DIR_MODE).catch(() => {}); res.dirs++;
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) { await walk(full); continue; }
      if (!e.isFile()) continue;
      if (e.name.endsWith(SEALING_SUFFIX)) { if (opts.removeStale) await unlink(full).catch(() => {}); continue; }
      if (opts.skip?.(basename(full))) continue;
      res.files++;
      try {
        if (opts.plaintext === 'leave' && fileKeyId(await readHead(full)) === null) continue;
        if (await resealFile(keys, full)) { res.sealed++; await opts.after?.(full); }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile (withdrawal, export deleted)
        if (opts.tolerate) { res.skipped.push(`${full}: ${(err as Error).message}`); continue; }
        throw err;
      }
    }
  };
  await walk(root);
  return res;
}
