/**
 * Worker thread that parses and checks large POST /me/activity bodies (activity-body.ts) off the
 * event loop. Messages in: {id, bytes, channels, epochSeconds}; out: {ready: true} | {id, result}.
 */
import { parentPort } from 'node:worker_threads';
import { parseActivity, type ActivityParsed } from './activity-body.js';

export interface ActivityWorkerRequest { id: number; bytes: Uint8Array; channels: string[]; epochSeconds: number }
export interface ActivityWorkerResult { id: number; result: ActivityParsed }

const port = parentPort!;
const utf8 = new TextDecoder();
const encoder = new TextEncoder();
port.on('message', (m: ActivityWorkerRequest) => {
  const result = parseActivity({ text: utf8.decode(m.bytes), channels: m.channels, epochSeconds: m.epochSeconds });
  if (!result.ok) { port.postMessage({ id: m.id, result } satisfies ActivityWorkerResult); return; }
  const vals = encoder.encode(result.vals as string); // moved, not copied, to the server thread
  port.postMessage({ id: m.id, result: { ...result, vals } } satisfies ActivityWorkerResult, [result.index.buffer as ArrayBuffer, vals.buffer as ArrayBuffer]);
});
port.postMessage({ ready: true });
