/**
 * The envelope format of encryption at rest (src/server/storage/crypto.ts, sealed-files.ts): values and
 * chunked files round-trip; an altered, truncated, moved or wrong-key value or file is a
 * DecryptError that says so, never garbage; plaintext from an older version reads as it is.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DecryptError, FILE_CHUNK_BYTES, FILE_HEADER_BYTES, Keyring, fileKeyId, keyIdOf, valueKeyId } from '../../src/server/storage/crypto.js';
import { copySealed, openFile, plainSize, resealFile } from '../../src/server/storage/sealed-files.js';

const A = randomBytes(32), B = randomBytes(32);

describe('sealed values', () => {
  const ring = new Keyring(A);
  it('round-trips text and bytes, with a fresh nonce each time', () => {
    const s1 = ring.sealValue('{"note":"ünïcode ✓"}', 'participants.covariates:p_1');
    const s2 = ring.sealValue('{"note":"ünïcode ✓"}', 'participants.covariates:p_1');
    expect(s1).toMatch(/^mle1:/);
    expect(s1).not.toBe(s2);
    expect(ring.openValue(s1, 'participants.covariates:p_1')).toBe('{"note":"ünïcode ✓"}');
    expect(ring.openValue(ring.sealValue('', 'c'), 'c')).toBe('');
    expect(valueKeyId(s1)).toBe(keyIdOf(A));
  });

  it('an altered value, a value moved to another row and a wrong key are errors', () => {
    const s = ring.sealValue('secret', 'participants.covariates:p_1');
    const raw = Buffer.from(s.slice(5), 'base64');
    for (const at of [20, 30, raw.length - 1]) {
      const t = Buffer.from(raw); t[at] ^= 1;
      expect(() => ring.openValue('mle1:' + t.toString('base64'), 'participants.covariates:p_1')).toThrow(DecryptError);
    }
    expect(() => ring.openValue(s, 'participants.covariates:p_2')).toThrow(/does not authenticate/);
    expect(() => new Keyring(B).openValue(s, 'participants.covariates:p_1')).toThrow(new RegExp(`data key ${keyIdOf(A)}, which this process does not have`));
    expect(() => ring.openValue('mle1:AAAA', 'x')).toThrow(DecryptError);
  });

  it('reads plaintext from an older version as it is', () => {
    expect(ring.openValue('{"sex":"f"}', 'participants.covariates:p_1')).toBe('{"sex":"f"}');
    expect(valueKeyId('{"sex":"f"}')).toBeNull();
  });

  it('during a rotation opens values under either key and seals under the primary one', () => {
    const r = new Keyring(A, [B]);
    const old = r.sealValue('x', 'c');
    r.setPrimary(keyIdOf(B));
    const fresh = r.sealValue('y', 'c');
    expect([valueKeyId(old), valueKeyId(fresh)]).toEqual([keyIdOf(A), keyIdOf(B)]);
    expect([r.openValue(old, 'c'), r.openValue(fresh, 'c')]).toEqual(['x', 'y']);
  });
});

describe('sealed files', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'moodlens-crypt-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const ring = new Keyring(A);

  it.each([0, 1, FILE_CHUNK_BYTES - 1, FILE_CHUNK_BYTES, FILE_CHUNK_BYTES + 1, 3 * FILE_CHUNK_BYTES + 17])('round-trips %i bytes', async (n) => {
    const plain = join(dir, `p${n}`), sealed = join(dir, `s${n}`);
    const bytes = randomBytes(n);
    writeFileSync(plain, bytes);
    expect(await openFile(ring, plain)).toEqual(bytes); // legacy plaintext reads as it is
    await copySealed(ring, plain, sealed);
    const onDisk = readFileSync(sealed);
    expect(fileKeyId(onDisk.subarray(0, FILE_HEADER_BYTES))).toBe(keyIdOf(A));
    expect(statSync(sealed).mode & 0o777).toBe(0o600);
    expect(await plainSize(ring, sealed)).toBe(n);
    expect((await openFile(ring, sealed)).equals(bytes)).toBe(true);
  });

  it('an altered, truncated or wrong-key file is an error', async () => {
    const plain = join(dir, 'big'), sealed = join(dir, 'big.sealed');
    writeFileSync(plain, randomBytes(2 * FILE_CHUNK_BYTES + 100));
    await copySealed(ring, plain, sealed);
    const good = readFileSync(sealed);
    const t = Buffer.from(good); t[FILE_HEADER_BYTES + FILE_CHUNK_BYTES + 40] ^= 0x80;
    writeFileSync(join(dir, 'flip'), t);
    await expect(openFile(ring, join(dir, 'flip'))).rejects.toThrow(/does not authenticate at chunk 1/);
    // Cut at a chunk boundary: every remaining chunk is whole, but the last one was not sealed as final.
    writeFileSync(join(dir, 'cut'), good.subarray(0, FILE_HEADER_BYTES + 2 * (FILE_CHUNK_BYTES + 16)));
    await expect(openFile(ring, join(dir, 'cut'))).rejects.toThrow(DecryptError);
    await expect(openFile(new Keyring(B), sealed)).rejects.toThrow(/which this process does not have/);
  });

  it('re-seals a file under a new primary key in place', async () => {
    const p = join(dir, 'rot');
    writeFileSync(p, 'RIFF....WAVE plaintext');
    const r = new Keyring(A, [B]);
    expect(await resealFile(r, p)).toBe(true);
    expect(await resealFile(r, p)).toBe(false);
    r.setPrimary(keyIdOf(B));
    expect(await resealFile(r, p)).toBe(true);
    expect(fileKeyId(readFileSync(p).subarray(0, FILE_HEADER_BYTES))).toBe(keyIdOf(B));
    expect((await openFile(new Keyring(B), p)).toString()).toBe('RIFF....WAVE plaintext');
  });
});
