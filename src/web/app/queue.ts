/**
 * The app's outbox in IndexedDB: every answered prompt is written here BEFORE any upload is
 * tried, so closing the app (or losing the network) mid-upload loses nothing. Each entry carries
 * the report body with its client-chosen id and the recording; the server treats a repeated id
 * (and the same recording bytes) as a retry, so re-sending after a crash is harmless.
 */
export interface OutboxEntry {
  id: string;
  report: { id: string; time: string; trigger: string; answers: Record<string, number | number[] | string>; itemOrder: string[]; promptTime?: string; instrument?: string; promptId?: string };
  /** 16-bit PCM WAV bytes of the speech task, if recorded. */
  wav?: ArrayBuffer;
  /** Privacy mode (speech.kind = "features"): eGeMAPS functionals computed on the phone, sent instead of audio. */
  features?: Record<string, number | null>;
  /** Why there is no recording (skipped, no microphone): told to the server for the data-quality view. */
  speechNote?: { reason: 'skipped' | 'microphone' | 'rejected'; detail?: string };
  reportDone: boolean;
  tries: number;
  nextTryMs: number;
  /** A refusal the server will repeat (4xx): kept for the participant to see, not retried. */
  failed?: string;
  createdMs: number;
}

const DB = 'moodlens';
const STORE = 'outbox';

function open(): Promise<IDBDatabase> {
  return new Promise((res, rej) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => { r.result.createObjectStore(STORE, { keyPath: 'id' }); };
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
}

async function tx<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  return new Promise((res, rej) => {
    const t = db.transaction(STORE, mode);
    const req = f(t.objectStore(STORE));
    // Resolve on commit, not on the request: "durable" means the transaction completed.
    t.oncomplete = () => { db.close(); res(req.result); };
    t.onerror = () => { db.close(); rej(t.error); };
    t.onabort = () => { db.close(); rej(t.error); };
  });
}

export const outbox = {
  put: (e: OutboxEntry) => tx('readwrite', (s) => s.put(e)).then(() => undefined),
  remove: (id: string) => tx('readwrite', (s) => s.delete(id)).then(() => undefined),
  all: async (): Promise<OutboxEntry[]> => (await tx<OutboxEntry[]>('readonly', (s) => s.getAll())).sort((a, b) => a.createdMs - b.createdMs),
};

export interface Uploader {
  postReport(body: OutboxEntry['report']): Promise<Response>;
  putSpeech(id: string, wav: ArrayBuffer): Promise<Response>;
  putFeatures(id: string, features: Record<string, number | null>): Promise<Response>;
  putSpeechFailure(id: string, note: NonNullable<OutboxEntry['speechNote']>): Promise<Response>;
}

/** Retry delay after n failed tries: 5 s doubling to at most 5 min. */
export function backoffMs(tries: number): number { return Math.min(5 * 60_000, 5_000 * 2 ** Math.max(0, tries - 1)); }

let running: Promise<number> | null = null;

/** Send every entry that is due; returns how many remain. One flush at a time. */
export function flush(up: Uploader, force = false): Promise<number> {
  running ??= (async () => {
    try {
      for (const e of await outbox.all()) {
        if (e.failed || (!force && e.nextTryMs > Date.now())) continue;
        try {
          if (!e.reportDone) {
            const r = await up.postReport(e.report);
            if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) { e.failed = `report refused: ${r.status} ${(await r.text()).slice(0, 200)}`; await outbox.put(e); continue; }
            if (!r.ok) throw new Error(`HTTP ${r.status}`);
            e.reportDone = true; await outbox.put(e);
          }
          if (e.wav) {
            const r = await up.putSpeech(e.report.id, e.wav);
            if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
              e.failed = `recording refused: ${r.status} ${(await r.text()).slice(0, 200)}`; await outbox.put(e);
              // The report is stored; let the researcher see its recording was refused (best effort).
              await up.putSpeechFailure(e.report.id, { reason: 'rejected', detail: e.failed.slice(0, 300) }).catch(() => undefined);
              continue;
            }
            if (!r.ok) throw new Error(`HTTP ${r.status}`);
          }
          if (e.features) {
            const r = await up.putFeatures(e.report.id, e.features);
            if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) { e.failed = `speech features refused: ${r.status} ${(await r.text()).slice(0, 200)}`; await outbox.put(e); continue; }
            if (!r.ok) throw new Error(`HTTP ${r.status}`);
          }
          if (e.speechNote && !e.wav && !e.features) {
            const r = await up.putSpeechFailure(e.report.id, e.speechNote);
            // A refusal here is not worth keeping the entry for: the answers are in.
            if (!r.ok && !(r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429)) throw new Error(`HTTP ${r.status}`);
          }
          await outbox.remove(e.id);
        } catch {
          // Network down or server error: try again later (the entry stays as it is).
          e.tries += 1; e.nextTryMs = Date.now() + backoffMs(e.tries); await outbox.put(e);
        }
      }
      return (await outbox.all()).filter((x) => !x.failed).length;
    } finally { running = null; }
  })();
  return running;
}
