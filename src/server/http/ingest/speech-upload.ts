/**
 * Speech uploads: the request body is streamed to a temporary file (never held whole) with a size
 * cap, its sha256 computed on the way; the WAV header is checked with the signal code's
 * `parseWavHeader` and the data chunk must be complete. Only then is the file fsynced and renamed
 * into place (and its directory fsynced), so a crash leaves either no file or a whole one — and
 * the database row that makes it visible is written after that.
 *
 * Other formats (a phone's own recorder: m4a/AAC, 3GPP/AMR, Ogg/Opus, WebM, MP3, FLAC) are decoded
 * when the server was given an ffmpeg binary (`--ffmpeg PATH`): the upload is received the same
 * way, then ffmpeg writes 16 kHz mono 16-bit WAV next to it, which gets the WAV checks above. The
 * sha256 stays the one of the bytes the phone sent, so a retried upload is still recognised.
 *
 * Encryption at rest (docs/security.md): the bytes are sealed with the data key as they arrive
 * (sealed-files.ts), so the recording is never on disk in plaintext — except, with --ffmpeg, the
 * decoder's input and output in the 0700 tmp folder for the seconds a decode takes.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { open, rename, unlink, stat, readdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { parseWavHeader, sniffContainer, WavError } from '../../../signal/wav.js';
import { ffmpegWavArgs } from '../../../io/speech-node.js';
import { HttpError } from '../errors.js';
import type { Keyring } from '../../storage/crypto.js';
import { SealedFileWriter, copyPlain, copySealed, createPrivate, mkdirPrivate, syncDir } from '../../storage/sealed-files.js';

/** Bytes kept from the start of the upload to read the header (fmt and data chunk headers). */
const HEAD_BYTES = 64 * 1024;

export interface StoredAudio {
  bytes: number;
  sha256: string;
  sampleRate: number;
  channels: number;
  durationS: number;
  /** Path of the temporary file, to be moved with `commitAudio`. */
  tmpPath: string;
}

/** Check that an ffmpeg binary runs (the server checks at start). */
export function checkFfmpeg(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(path, ['-hide_banner', '-version'], { timeout: 10_000 }, (err) => {
      if (err) reject(new Error(`--ffmpeg ${path}: cannot run it (${(err as NodeJS.ErrnoException).code ?? err.message}); give the path of an ffmpeg binary, or leave the option out to accept WAV only`));
      else resolve();
    });
  });
}

/** Decode any audio file ffmpeg reads to 16 kHz mono 16-bit WAV. */
function decodeToWav(ffmpeg: string, input: string, output: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(ffmpeg, ffmpegWavArgs(input, output, 16000),
      { timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (err, _out, stderr) => {
        if (!err) return resolve();
        const why = err.killed ? `took longer than ${timeoutMs / 1000} s` : (stderr.trim().split('\n').pop() || err.message);
        reject(new HttpError(400, `body: not a WAV file, and ffmpeg could not decode it as audio: ${why}`, 'body'));
      });
  });
}

export interface ReceiveOptions {
  /** The data keys: the recording is sealed with the primary one as it arrives. */
  keys: Keyring;
  /** ffmpeg binary: decode uploads that are not WAV (none: WAV only). */
  ffmpeg?: string;
  /** Longest a decode may take (default 60 s). */
  decodeTimeoutMs?: number;
}

export async function receiveAudio(body: Readable, tmpDir: string, maxBytes: number, opts: ReceiveOptions): Promise<StoredAudio> {
  await mkdirPrivate(tmpDir);
  const tmpPath = join(tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}.part`);
  const fh = await createPrivate(tmpPath);
  const sealed = new SealedFileWriter(fh, opts.keys);
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headLen = 0, total = 0;
  let ok = false, closed = false;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) throw new HttpError(413, `body: audio larger than the study's limit of ${maxBytes} bytes`, 'body');
      if (headLen < HEAD_BYTES) { head.push(chunk); headLen += chunk.length; }
      hash.update(chunk);
      await sealed.write(chunk);
    }
    await sealed.end();
    if (total === 0) throw new HttpError(400, 'body: empty upload, expected a WAV file', 'body');
    const headBuf = Buffer.concat(head).subarray(0, HEAD_BYTES);
    const sha256 = hash.digest('hex');
    if (opts.ffmpeg && sniffContainer(new Uint8Array(headBuf.buffer, headBuf.byteOffset, headBuf.byteLength)) !== 'wav') {
      await fh.close(); closed = true;
      // ffmpeg reads and writes files (an mp4 needs a seekable input): plaintext copies, 0600 in
      // the 0700 tmp folder, removed as soon as the decoded WAV is sealed.
      const inPath = tmpPath.replace(/\.part$/, '.in.part'), wavPath = tmpPath.replace(/\.part$/, '.wav.part'), outPath = tmpPath.replace(/\.part$/, '.sealed.part');
      try {
        await copyPlain(opts.keys, tmpPath, inPath);
        await (await createPrivate(wavPath)).close(); // ffmpeg -y keeps the mode of the file it overwrites
        await decodeToWav(opts.ffmpeg, inPath, wavPath, opts.decodeTimeoutMs ?? 60_000);
        const wav = await checkWavFile(wavPath);
        await copySealed(opts.keys, wavPath, outPath);
        ok = true;
        return { ...wav, sha256, tmpPath: outPath };
      } catch (e) {
        await unlink(outPath).catch(() => {});
        throw e;
      } finally {
        for (const f of [inPath, wavPath, tmpPath]) await unlink(f).catch(() => {});
      }
    }
    const wav = wavInfo(headBuf, total, opts.ffmpeg ? '' : ' (this server decodes other formats only when started with --ffmpeg PATH)');
    await fh.sync();
    ok = true;
    return { ...wav, sha256, tmpPath };
  } finally {
    if (!closed) await fh.close();
    if (!ok) await unlink(tmpPath).catch(() => {});
  }
}

/** The WAV checks on a file's first bytes and its size: usable header, complete data chunk. */
function wavInfo(headBuf: Buffer, total: number, hint = ''): Omit<StoredAudio, 'sha256' | 'tmpPath'> {
  let parsed: ReturnType<typeof parseWavHeader>;
  try {
    parsed = parseWavHeader(new Uint8Array(headBuf.buffer, headBuf.byteOffset, headBuf.byteLength));
  } catch (e) {
    if (e instanceof WavError) throw new HttpError(400, `body: not a usable WAV file: ${e.message}${hint}`, 'body');
    throw e;
  }
  const { fmt, dataOffset, declaredBytes } = parsed;
  const available = total - dataOffset;
  if (available < declaredBytes) {
    throw new HttpError(400, `body: truncated WAV file: the data chunk declares ${declaredBytes} bytes but ${Math.max(0, available)} arrived`, 'body');
  }
  // A well-formed WAV with no samples is accepted: it is the recording that was made (a failed
  // one), and the feature pipeline marks it unusable, as it does silent or noisy ones.
  return { bytes: total, sampleRate: fmt.sampleRate, channels: fmt.channels, durationS: Math.floor(declaredBytes / fmt.blockAlign) / fmt.sampleRate };
}

/** wavInfo of a file on disk (ffmpeg's output), fsynced so it can be committed. */
async function checkWavFile(path: string): Promise<Omit<StoredAudio, 'sha256' | 'tmpPath'>> {
  const fh = await open(path, 'r+');
  try {
    const size = (await stat(path)).size;
    const head = Buffer.alloc(Math.min(HEAD_BYTES, size));
    await fh.read(head, 0, head.length, 0);
    const info = wavInfo(head, size);
    await fh.sync();
    return info;
  } finally {
    await fh.close();
  }
}

/** Move a received file into place durably (rename, then fsync the directory). */
export async function commitAudio(tmpPath: string, finalPath: string): Promise<void> {
  await mkdirPrivate(dirname(finalPath));
  await rename(tmpPath, finalPath);
  await syncDir(dirname(finalPath));
}

/**
 * At start: remove every file under `<data-dir>/speech` that has no database row (a crash between
 * an upload's rename and its commit, or between a withdrawal's commit and its file deletions), so
 * no recording exists that withdrawal or export could miss. `known` holds the rows' paths relative
 * to the data directory. Returns the paths removed.
 */
export async function removeOrphanAudio(dataDir: string, known: Set<string>): Promise<string[]> {
  const root = join(dataDir, 'speech');
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const e of entries) {
    if (e.isDirectory()) continue;
    const full = join(e.parentPath ?? (e as any).path, e.name);
    const rel = relative(dataDir, full).split(sep).join('/');
    if (known.has(rel)) continue;
    await unlink(full).catch(() => {});
    removed.push(rel);
  }
  return removed;
}
