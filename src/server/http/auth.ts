/**
 * Passwords and tokens. Passwords: scrypt (node:crypto; N=2^15, r=8, p=1, 16-byte salt, 32-byte
 * key — OWASP's minimum for scrypt), compared in constant time. Tokens: 32 random bytes, given to
 * the client once; only their sha256 is stored, so a copy of the database cannot log anyone in.
 * Enrolment codes: 10 characters from an alphabet without look-alikes (≈ 50 bits), one use.
 */
import { randomBytes, scrypt, timingSafeEqual, createHash, randomInt } from 'node:crypto';

const N = 1 << 15, R = 8, P = 1, KEYLEN = 32;
const MAXMEM = 64 * 1024 * 1024;

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((res, rej) => scrypt(password, salt, KEYLEN, { N: n, r, p, maxmem: MAXMEM }, (e, k) => (e ? rej(e) : res(k))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, N, R, P);
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], 'base64url');
  const expected = Buffer.from(parts[5], 'base64url');
  const key = await scryptAsync(password, salt, n, r, p);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash to compare against when the user does not exist, so login time does not reveal it. */
let dummyHash: Promise<string> | null = null;
export function dummyPasswordHash(): Promise<string> { return (dummyHash ??= hashPassword('not-a-user')); }

export type TokenKind = 'researcher' | 'participant';

/** A new bearer token; the prefix says whose it is ("r_" researcher session, "p_" participant device). */
export function newToken(kind: TokenKind): string {
  return (kind === 'researcher' ? 'r_' : 'p_') + randomBytes(32).toString('base64url');
}

export function tokenKind(token: string): TokenKind | null {
  return token.startsWith('r_') ? 'researcher' : token.startsWith('p_') ? 'participant' : null;
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export function newEnrolCode(): string {
  let s = '';
  for (let i = 0; i < 10; i++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return s;
}

/** Codes are typed by hand: case and separators do not matter. */
export function normaliseEnrolCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, '');
}
