/**
 * Speech uploads: the request body is streamed to a temporary file (never held whole) with a size
 * cap, its sha256 computed on the way; the WAV header is checked with the signal code's
 * `parseWavHeader` and the data chunk must be complete. Only then is the file fsynced and renamed
 * into place (and its directory fsynced), so a crash leaves either no file or a whole one — and
 * the database row that makes it visible is written after that.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, rename, mkdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { parseWavHeader, WavError } from '../signal/wav.js';
import { HttpError } from './http-error.js';

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

export async function receiveAudio(body: Readable, tmpDir: string, maxBytes: number): Promise<StoredAudio> {
  await mkdir(tmpDir, { recursive: true });
  const tmpPath = join(tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}.part`);
  const fh = await open(tmpPath, 'w');
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headLen = 0, total = 0;
  let ok = false;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) throw new HttpError(413, `body: audio larger than the study's limit of ${maxBytes} bytes`, 'body');
      if (headLen < HEAD_BYTES) { head.push(chunk); headLen += chunk.length; }
      hash.update(chunk);
      await fh.write(chunk);
    }
    if (total === 0) throw new HttpError(400, 'body: empty upload, expected a WAV file', 'body');
    const headBuf = Buffer.concat(head).subarray(0, HEAD_BYTES);
    let parsed: ReturnType<typeof parseWavHeader>;
    try {
      parsed = parseWavHeader(new Uint8Array(headBuf.buffer, headBuf.byteOffset, headBuf.byteLength));
    } catch (e) {
      if (e instanceof WavError) throw new HttpError(400, `body: not a usable WAV file: ${e.message}`, 'body');
      throw e;
    }
    const { fmt, dataOffset, declaredBytes } = parsed;
    const available = total - dataOffset;
    if (available < declaredBytes) {
      throw new HttpError(400, `body: truncated WAV file: the data chunk declares ${declaredBytes} bytes but ${Math.max(0, available)} arrived`, 'body');
    }
    // A well-formed WAV with no samples is accepted: it is the recording that was made (a failed
    // one), and the feature pipeline marks it unusable, as it does silent or noisy ones.
    await fh.sync();
    ok = true;
    return {
      bytes: total, sha256: hash.digest('hex'), sampleRate: fmt.sampleRate, channels: fmt.channels,
      durationS: Math.floor(declaredBytes / fmt.blockAlign) / fmt.sampleRate, tmpPath,
    };
  } finally {
    await fh.close();
    if (!ok) await unlink(tmpPath).catch(() => {});
  }
}

/** Move a received file into place durably (rename, then fsync the directory). */
export async function commitAudio(tmpPath: string, finalPath: string): Promise<void> {
  await mkdir(dirname(finalPath), { recursive: true });
  await rename(tmpPath, finalPath);
  const dh = await open(dirname(finalPath), 'r');
  try { await dh.sync(); } finally { await dh.close(); }
}
