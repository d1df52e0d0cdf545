/**
 * Worker thread that fits new participants' micro layers (personalizeParticipant, SPEC §6) off
 * the server's event loop. It loads the model folder with its own TensorFlow.js wasm backend and
 * keeps the fitted rows between fits (a refit starts from the participant's current layer, as on
 * one thread). For each fit it answers with the participant's new row of every user table and
 * their activity standardisation; the server's predictor swaps those in when they arrive.
 *
 * Messages in:  {type: 'fit', id, participantId, rows: ReportInstance[], channels, windowEpochs, speechFeatures, epochs?}
 * Messages out: {ready: true} | {type: 'started', id} | {type: 'done', id, participantId, layers} | {type: 'failed', id, error}
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initNodeBackend } from '../../train/backend-node.js';
import { loadModel } from '../../train/model-folder.js';
import { personalizeParticipant } from '../../model/personalize.js';
import { instancesDataset, type ReportInstance } from '../../data/instances.js';

export interface FitRequest {
  type: 'fit'; id: number; participantId: string; rows: ReportInstance[];
  channels: string[]; windowEpochs: number; speechFeatures: string[]; epochs?: number;
}
/** Per member: table name → the participant's row, and their activity [mean, sd] per channel (null: member has no user tables). */
export type FittedLayers = ({ rows: Record<string, Float32Array>; activityNorm?: [number, number][] } | null)[];

const port = parentPort!;
const { modelDir } = workerData as { modelDir: string };

await initNodeBackend();
const m = loadModel(modelDir);
port.postMessage({ ready: true });

port.on('message', (req: FitRequest) => {
  if (req.type !== 'fit') return;
  port.postMessage({ type: 'started', id: req.id });
  try {
    const ds = instancesDataset(req.participantId, req.rows, { items: m.items, channels: req.channels, windowEpochs: req.windowEpochs, speechFeatures: req.speechFeatures });
    const idx = Int32Array.from({ length: ds.n }, (_, i) => i);
    const layers: FittedLayers = m.members.map((mem) => {
      if (mem.model.tables.length === 0) return null;
      personalizeParticipant(mem, ds, req.participantId, idx, req.epochs ? { epochs: req.epochs } : {});
      const slot = mem.participants.indexOf(req.participantId);
      const rows: Record<string, Float32Array> = {};
      for (const t of mem.model.tables) rows[t.name] = t.data.slice(slot * t.size, (slot + 1) * t.size);
      return { rows, activityNorm: mem.norm.activity[req.participantId] };
    });
    port.postMessage({ type: 'done', id: req.id, participantId: req.participantId, layers });
  } catch (e) {
    port.postMessage({ type: 'failed', id: req.id, error: e instanceof Error ? e.message : String(e) });
  }
});
