/**
 * Random-access byte sources and a small ZIP reader for formats that are ZIP archives (ActiGraph
 * `.gt3x`). Browser-safe: no Node APIs; entries are inflated with the web-standard
 * `DecompressionStream('deflate-raw')` (Node ≥ 20, current browsers), so no ZIP library is needed.
 *
 * Why random access: a `.gt3x` often stores `info.txt` (sample rate, start, time zone) *after*
 * `log.bin`, so a front-to-back stream would have to hold all of `log.bin` before it could be read.
 * With the central directory (at the end of the archive) the small entries are read first and the
 * big one is then streamed 1 MiB at a time, so memory stays bounded for any recording length.
 *
 * Supported: stored (0) and deflated (8) entries, data descriptors (sizes are taken from the central
 * directory), ZIP64 sizes and offsets; each entry's CRC-32 is checked at its end.
 */
import { byteError as zipError } from './types.js';

/** Bytes that can be read at any offset: a file on disk, a browser `Blob`, a buffer in memory. */
export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes from `offset` (fewer only at the end of the source). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A source over bytes already in memory (an upload's body, a test's buffer). */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: async (o, n) => bytes.subarray(o, Math.min(bytes.length, o + n)) };
}

/** A source over a browser `Blob`/`File` (reads only what is asked). */
export function blobSource(blob: Blob): ByteSource {
  return { size: blob.size, read: async (o, n) => new Uint8Array(await blob.slice(o, o + n).arrayBuffer()) };
}

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  /** Offset of the entry's local header. */
  localOffset: number;
}

const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000;
const u64 = (b: Uint8Array, o: number) => u32(b, o) + u32(b, o + 4) * 0x100000000;

/** True when the bytes start like a ZIP archive (local file header "PK\3\4"). */
export function isZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 3 && head[3] === 4;
}

/** The archive's entries, from its central directory. */
export async function zipEntries(src: ByteSource, name = 'input'): Promise<ZipEntry[]> {
  const tailLen = Math.min(src.size, 65557);
  const tailAt = src.size - tailLen;
  const tail = await src.read(tailAt, tailLen);
  let e = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail[i] === 0x50 && tail[i + 1] === 0x4b && tail[i + 2] === 5 && tail[i + 3] === 6) { e = i; break; }
  }
  if (e < 0) {
    throw zipError(name, null, src.size >= 4 && isZip(await src.read(0, 4))
      ? `ZIP archive cut off: no end-of-central-directory record in its last ${tailLen} bytes (file size ${src.size})`
      : 'not a ZIP archive (a .gt3x is one): no "PK" end-of-central-directory record');
  }
  let count = u16(tail, e + 10);
  let cdSize = u32(tail, e + 12);
  let cdOffset = u32(tail, e + 16);
  if ((count === 0xffff || cdOffset === 0xffffffff) && e >= 20 && u32(tail, e - 20) === 0x07064b50) {
    const z64At = u64(tail, e - 12);
    const z = await src.read(z64At, 56);
    if (z.length < 56 || u32(z, 0) !== 0x06064b50) throw zipError(name, z64At, 'expected the ZIP64 end-of-central-directory record');
    count = u64(z, 32); cdSize = u64(z, 40); cdOffset = u64(z, 48);
  }
  if (cdOffset + cdSize > src.size) {
    throw zipError(name, cdOffset, `central directory (${cdSize} bytes) runs past the end of the file (size ${src.size}): cut off`);
  }
  const cd = await src.read(cdOffset, cdSize);
  const out: ZipEntry[] = [];
  const dec = new TextDecoder('utf-8');
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cd.length || u32(cd, p) !== 0x02014b50) throw zipError(name, cdOffset + p, `expected central directory entry ${k + 1} of ${count}`);
    const method = u16(cd, p + 10);
    const crc = u32(cd, p + 16);
    let compressedSize = u32(cd, p + 20), size = u32(cd, p + 24);
    const n = u16(cd, p + 28), m = u16(cd, p + 30), c = u16(cd, p + 32);
    let localOffset = u32(cd, p + 42);
    const entryName = dec.decode(cd.subarray(p + 46, p + 46 + n));
    // ZIP64 extra field: the 64-bit values, in this order, for the fields that are all ones.
    for (let x = p + 46 + n; x + 4 <= p + 46 + n + m;) {
      const id = u16(cd, x), len = u16(cd, x + 2);
      if (id === 1) {
        let q = x + 4;
        if (size === 0xffffffff) { size = u64(cd, q); q += 8; }
        if (compressedSize === 0xffffffff) { compressedSize = u64(cd, q); q += 8; }
        if (localOffset === 0xffffffff) { localOffset = u64(cd, q); }
      }
      x += 4 + len;
    }
    out.push({ name: entryName, method, compressedSize, size, crc, localOffset });
    p += 46 + n + m + c;
  }
  return out;
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

function crc32(crc: number, b: Uint8Array): number {
  let c = ~crc;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * The entry's uncompressed bytes in chunks (each at most about `chunk` bytes). Throws an
 * InputError naming the file, the byte offset and what was expected when the entry is cut off,
 * its compressed data are corrupt, or its CRC-32 or size do not match.
 */
export async function* zipEntryChunks(src: ByteSource, entry: ZipEntry, name = 'input', chunk = 1 << 20): AsyncGenerator<Uint8Array> {
  const lh = await src.read(entry.localOffset, 30);
  if (lh.length < 30 || u32(lh, 0) !== 0x04034b50) throw zipError(name, entry.localOffset, `expected the local header of ZIP entry ${entry.name}`);
  const start = entry.localOffset + 30 + u16(lh, 26) + u16(lh, 28);
  const end = start + entry.compressedSize;
  if (end > src.size) {
    throw zipError(name, src.size, `ZIP entry ${entry.name} needs ${entry.compressedSize} bytes from byte ${start}, but the file ends after ${src.size - start}: cut off`);
  }
  if (entry.method !== 0 && entry.method !== 8) throw zipError(name, entry.localOffset, `ZIP entry ${entry.name} uses compression method ${entry.method}; only stored (0) and deflate (8) are read`);
  let crc = 0, total = 0;
  const check = (b: Uint8Array) => { crc = crc32(crc, b); total += b.length; };
  const done = () => {
    if (total !== entry.size) throw zipError(name, start, `ZIP entry ${entry.name}: expected ${entry.size} bytes after inflating, got ${total}: corrupt`);
    if (crc !== entry.crc) throw zipError(name, start, `ZIP entry ${entry.name}: CRC-32 ${crc.toString(16)} ≠ ${entry.crc.toString(16)} in the directory: corrupt`);
  };
  if (entry.method === 0) {
    for (let o = start; o < end; o += chunk) {
      const b = await src.read(o, Math.min(chunk, end - o));
      check(b);
      yield b;
    }
    done();
    return;
  }
  const ds = new DecompressionStream('deflate-raw');
  const writer = ds.writable.getWriter();
  const reader = ds.readable.getReader();
  let readAt = start;
  // Feed compressed bytes as the inflater asks for them (its queue bounds memory).
  const feed = (async () => {
    for (let o = start; o < end; o += chunk) {
      await writer.ready;
      const b = await src.read(o, Math.min(chunk, end - o));
      readAt = o + b.length;
      await writer.write(b as Uint8Array<ArrayBuffer>);
    }
    await writer.close();
  })();
  // A failed read of the source aborts the inflater, so the reader below sees it instead of waiting.
  let readError: unknown = null;
  feed.catch((e: unknown) => { readError = e; return writer.abort(e).catch(() => undefined); });
  let finished = false;
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try { r = await reader.read(); } catch (e) {
        if (readError) throw readError;
        throw zipError(name, readAt, `ZIP entry ${entry.name}: compressed data corrupt or cut off (${(e as Error).message})`);
      }
      if (r.done) { finished = true; break; }
      check(r.value);
      yield r.value;
    }
    await feed.catch((e: unknown) => {
      throw zipError(name, readAt, `ZIP entry ${entry.name}: compressed data corrupt or cut off (${(e as Error).message})`);
    });
  } finally {
    // Stopped early (the consumer broke off, or an error): let the inflater go.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
  done();
}

/** The whole (small) entry as bytes. */
export async function zipEntryBytes(src: ByteSource, entry: ZipEntry, name = 'input'): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const b of zipEntryChunks(src, entry, name)) parts.push(b.slice());
  const out = new Uint8Array(parts.reduce((s, b) => s + b.length, 0));
  let o = 0;
  for (const b of parts) { out.set(b, o); o += b.length; }
  return out;
}
