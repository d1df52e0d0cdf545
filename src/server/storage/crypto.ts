/**
 * Encryption at rest (docs/security.md, "Encryption at rest"): AES-256-GCM from node:crypto, a
 * fresh random nonce for every value and every file, the authentication tag checked on every read.
 * A value or file that was altered, or sealed with another key, is an error that says so — never
 * garbage.
 *
 * Every sealed thing starts with a versioned envelope header that names the key that sealed it
 * (a key id: the first 8 bytes of HMAC-SHA256(key, "moodlens data key id")), so a key rotation can
 * tell what is still under the old key and reads accept either key while it runs.
 *
 *   header   = "MLEC" | version (1) | type ("V" value, "F" file) | key id (8)        14 bytes
 *   value    = header | nonce (12) | tag (16) | ciphertext
 *              AAD = header | context
 *   file     = header | chunk size (u32 BE) | nonce prefix (8)                        26 bytes
 *              then chunks of ≤ chunk size plaintext bytes, each ciphertext | tag (16)
 *              nonce of chunk i = nonce prefix | u32 BE i;  AAD = file header | final (0/1) | context
 *
 * Chunked files can be read as a stream with every chunk authenticated before it is released; the
 * "final" bit makes a truncated file fail. A value's context binds it to its column and row
 * (e.g. "participants.covariates:p_…"), so a sealed value moved to another row does not open.
 * Database columns hold values as text: "mle1:" + base64(value envelope).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
const MAGIC = Buffer.from('MLEC', 'ascii');
const VERSION = 1;
const TYPE_VALUE = 0x56; // "V"
const TYPE_FILE = 0x46; // "F"
const KEY_ID_BYTES = 8;
const HEADER_BYTES = 4 + 1 + 1 + KEY_ID_BYTES; // 14
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const FILE_HEADER_BYTES = HEADER_BYTES + 4 + 8; // 26
export const FILE_CHUNK_BYTES = 64 * 1024;
/** Prefix of a sealed value stored in a text column. */
export const VALUE_PREFIX = 'mle1:';

/** A sealed value or file that cannot be opened: unknown key, altered bytes, bad envelope. */
export class DecryptError extends Error {
  constructor(message: string) { super(message); this.name = 'DecryptError'; }
}

/** The key id (16 hex digits) of a 32-byte data key. */
export function keyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update('moodlens data key id').digest().subarray(0, KEY_ID_BYTES).toString('hex');
}

/** Parse a key given as base64 (standard or url-safe) text; exactly 32 bytes. */
export function parseKey(text: string, where: string): Buffer {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) throw new Error(`${where}: expected a base64-encoded 32-byte key`);
  const key = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`${where}: expected a base64-encoded 32-byte key, got ${key.length} bytes`);
  return key;
}

function header(type: number, keyId: Buffer): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(h, 0);
  h[4] = VERSION;
  h[5] = type;
  keyId.copy(h, 6);
  return h;
}

/** The key id in a sealed header, or null when `buf` does not start with an envelope of this type. */
function headerKeyId(buf: Buffer, type: number): string | null {
  if (buf.length < HEADER_BYTES || !buf.subarray(0, 4).equals(MAGIC) || buf[5] !== type) return null;
  if (buf[4] !== VERSION) throw new DecryptError(`sealed with envelope version ${buf[4]}, which this version of moodlens does not read`);
  return buf.subarray(6, HEADER_BYTES).toString('hex');
}

/** Is this the start of a sealed file (at least its 26-byte header)? */
export function isSealedFileHeader(head: Buffer): boolean {
  return head.length >= FILE_HEADER_BYTES && headerKeyId(head, TYPE_FILE) !== null;
}

/** The key id that sealed a file, from its first bytes (null: not a sealed file — legacy plaintext). */
export function fileKeyId(head: Buffer): string | null {
  return head.length >= FILE_HEADER_BYTES ? headerKeyId(head, TYPE_FILE) : null;
}

/** Is this text a sealed value (prefix "mle1:")? Anything else is legacy plaintext. */
export function isSealedValue(text: string): boolean { return text.startsWith(VALUE_PREFIX); }

/** The key id that sealed a value (null: legacy plaintext); throws for a garbled envelope. */
export function valueKeyId(text: string): string | null {
  if (!isSealedValue(text)) return null;
  const id = headerKeyId(Buffer.from(text.slice(VALUE_PREFIX.length, VALUE_PREFIX.length + 24), 'base64'), TYPE_VALUE);
  if (!id) throw new DecryptError('not a moodlens sealed value (bad envelope header)');
  return id;
}

/**
 * The data keys a process holds: one primary key that seals, and any others that still open
 * (during a rotation: the old and the new key).
 */
export class Keyring {
  private keys = new Map<string, Buffer>();
  private primary: string;

  constructor(primary: Buffer, others: Buffer[] = []) {
    this.primary = this.add(primary);
    for (const k of others) this.add(k);
  }

  /** Add a key (it opens from now on); returns its id. */
  add(key: Buffer, makePrimary = false): string {
    if (key.length !== KEY_BYTES) throw new Error(`a data key is ${KEY_BYTES} bytes, got ${key.length}`);
    const id = keyIdOf(key);
    this.keys.set(id, Buffer.from(key));
    if (makePrimary) this.primary = id;
    return id;
  }

  /** Seal with this (held) key from now on. */
  setPrimary(id: string): void {
    if (!this.keys.has(id)) throw new Error(`data key ${id} is not held`);
    this.primary = id;
  }

  get primaryId(): string { return this.primary; }
  has(id: string): boolean { return this.keys.has(id); }
  ids(): string[] { return [...this.keys.keys()]; }

  private key(id: string, what: string): Buffer {
    const k = this.keys.get(id);
    if (!k) throw new DecryptError(`${what} is sealed with data key ${id}, which this process does not have (held: ${this.ids().join(', ')}); start with the key file or MOODLENS_DATA_KEY that sealed it`);
    return k;
  }

  // ---------- values (database columns) ----------

  /** Seal a value under the primary key; `context` names its column and row. */
  sealValue(plain: string | Buffer, context: string): string {
    const id = Buffer.from(this.primary, 'hex');
    const h = header(TYPE_VALUE, id);
    const nonce = randomBytes(NONCE_BYTES);
    const c = createCipheriv('aes-256-gcm', this.keys.get(this.primary)!, nonce);
    c.setAAD(Buffer.concat([h, Buffer.from(context, 'utf8')]));
    const ct = Buffer.concat([c.update(typeof plain === 'string' ? Buffer.from(plain, 'utf8') : plain), c.final()]);
    return VALUE_PREFIX + Buffer.concat([h, nonce, c.getAuthTag(), ct]).toString('base64');
  }

  /** The key id of a sealed value (null: legacy plaintext). */
  valueKeyId(text: string): string | null { return valueKeyId(text); }

  /** Open a sealed value as bytes; throws DecryptError when it does not authenticate. */
  openValueBytes(text: string, context: string): Buffer {
    if (!isSealedValue(text)) throw new DecryptError(`${context}: not a sealed value`);
    const buf = Buffer.from(text.slice(VALUE_PREFIX.length), 'base64');
    const id = headerKeyId(buf, TYPE_VALUE);
    if (!id || buf.length < HEADER_BYTES + NONCE_BYTES + TAG_BYTES) throw new DecryptError(`${context}: not a moodlens sealed value (bad or truncated envelope)`);
    const nonce = buf.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
    const tag = buf.subarray(HEADER_BYTES + NONCE_BYTES, HEADER_BYTES + NONCE_BYTES + TAG_BYTES);
    const d = createDecipheriv('aes-256-gcm', this.key(id, context), nonce);
    d.setAAD(Buffer.concat([buf.subarray(0, HEADER_BYTES), Buffer.from(context, 'utf8')]));
    d.setAuthTag(tag);
    try {
      return Buffer.concat([d.update(buf.subarray(HEADER_BYTES + NONCE_BYTES + TAG_BYTES)), d.final()]);
    } catch {
      throw new DecryptError(`${context}: the sealed value does not authenticate (altered, moved from another row, or sealed with another key of id ${id})`);
    }
  }

  /**
   * Open a value read from a column: sealed values are decrypted and authenticated; a value
   * without the "mle1:" prefix is plaintext written by a version before encryption, returned as
   * it is (start-up seals those; see data-key.ts).
   */
  openValue(text: string, context: string): string {
    return isSealedValue(text) ? this.openValueBytes(text, context).toString('utf8') : text;
  }

  /** openValue for a nullable column. */
  openNullable(text: string | null, context: string): string | null { return text === null ? null : this.openValue(text, context); }

  // ---------- files ----------

  /** A streaming sealer for one file under the primary key (fresh nonce prefix). */
  fileSealer(context = 'file'): FileSealer { return new FileSealer(Buffer.from(this.primary, 'hex'), this.keys.get(this.primary)!, context); }

  /** A streaming opener for one sealed file whose first FILE_HEADER_BYTES bytes are `head`. */
  fileOpener(head: Buffer, context = 'file', what = 'file'): FileOpener {
    const id = fileKeyId(head);
    if (!id) throw new DecryptError(`${what}: not a moodlens sealed file`);
    return new FileOpener(head.subarray(0, FILE_HEADER_BYTES), this.key(id, what), context, what);
  }
}

function chunkNonce(prefix: Buffer, i: number): Buffer {
  const n = Buffer.alloc(NONCE_BYTES);
  prefix.copy(n, 0);
  n.writeUInt32BE(i, 8);
  return n;
}

/**
 * Bytes arriving in pieces, cut into chunks of a fixed size. A full chunk is handed out only when
 * more bytes follow it: the last chunk (possibly empty, possibly full) is kept for `rest`, because
 * the file format marks it as final. Shared by the sealer (plain chunks) and the opener (sealed ones).
 */
class Chunker {
  private pending: Buffer[] = [];
  private pendingLen = 0;

  constructor(private size: number) {}

  /** Add `data`; returns every chunk now known not to be the last. */
  push(data: Buffer): Buffer[] {
    this.pending.push(data); this.pendingLen += data.length;
    if (this.pendingLen <= this.size) return [];
    let all = Buffer.concat(this.pending);
    const out: Buffer[] = [];
    while (all.length > this.size) { out.push(all.subarray(0, this.size)); all = all.subarray(this.size); }
    this.pending = [all]; this.pendingLen = all.length;
    return out;
  }

  /** The last chunk; the chunker is empty afterwards. */
  rest(): Buffer {
    const last = Buffer.concat(this.pending);
    this.pending = []; this.pendingLen = 0;
    return last;
  }
}

/** Seals a stream of bytes into the chunked file format; write `header`, every `update`, then `final`. */
export class FileSealer {
  readonly header: Buffer;
  private prefix = randomBytes(8);
  private chunks = new Chunker(FILE_CHUNK_BYTES);
  private index = 0;
  private ctx: Buffer;

  constructor(keyId: Buffer, private key: Buffer, context: string) {
    const h = Buffer.alloc(FILE_HEADER_BYTES);
    header(TYPE_FILE, keyId).copy(h, 0);
    h.writeUInt32BE(FILE_CHUNK_BYTES, HEADER_BYTES);
    this.prefix.copy(h, HEADER_BYTES + 4);
    this.header = h;
    this.ctx = Buffer.from(context, 'utf8');
  }

  private seal(plain: Buffer, final: boolean): Buffer {
    if (this.index > 0xffffffff) throw new Error('sealed file too large');
    const c = createCipheriv('aes-256-gcm', this.key, chunkNonce(this.prefix, this.index++));
    c.setAAD(Buffer.concat([this.header, Buffer.from([final ? 1 : 0]), this.ctx]));
    return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  }

  /** Sealed bytes for the chunks completed by `data` (possibly empty). A full chunk is sealed only when more follows. */
  update(data: Buffer): Buffer {
    return Buffer.concat(this.chunks.push(data).map((c) => this.seal(c, false)));
  }

  /** The last (final) chunk; an empty file still has one. */
  final(): Buffer {
    return this.seal(this.chunks.rest(), true);
  }
}

/** Opens the chunks of a sealed file as they arrive; each chunk is authenticated before it is returned. */
export class FileOpener {
  private chunk: number;
  private prefix: Buffer;
  private chunks: Chunker;
  private index = 0;
  private ctx: Buffer;

  constructor(private header: Buffer, private key: Buffer, context: string, private what: string) {
    this.chunk = header.readUInt32BE(HEADER_BYTES);
    if (this.chunk < 1 || this.chunk > 1 << 26) throw new DecryptError(`${what}: bad chunk size in the sealed file header`);
    this.chunks = new Chunker(this.chunk + TAG_BYTES);
    this.prefix = header.subarray(HEADER_BYTES + 4, FILE_HEADER_BYTES);
    this.ctx = Buffer.from(context, 'utf8');
  }

  private open(sealed: Buffer, final: boolean): Buffer {
    if (sealed.length < TAG_BYTES) throw new DecryptError(`${this.what}: the sealed file is truncated`);
    const d = createDecipheriv('aes-256-gcm', this.key, chunkNonce(this.prefix, this.index++));
    d.setAAD(Buffer.concat([this.header, Buffer.from([final ? 1 : 0]), this.ctx]));
    d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_BYTES)), d.final()]);
    } catch {
      throw new DecryptError(`${this.what}: the sealed file does not authenticate at chunk ${this.index - 1} (altered, truncated or sealed with another key)`);
    }
  }

  /** Plaintext of the chunks completed by `data` (bytes after the 26-byte header). */
  update(data: Buffer): Buffer {
    return Buffer.concat(this.chunks.push(data).map((c) => this.open(c, false)));
  }

  /** Plaintext of the last chunk; throws when the file was truncated or altered. */
  final(): Buffer {
    return this.open(this.chunks.rest(), true);
  }

  /** Plaintext size of a sealed file of `fileBytes` bytes with this header. */
  plainSize(fileBytes: number): number {
    const body = fileBytes - FILE_HEADER_BYTES;
    const n = Math.max(1, Math.ceil(body / (this.chunk + TAG_BYTES)));
    return body - n * TAG_BYTES;
  }
}
