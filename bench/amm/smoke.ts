/** Quick look: one AMM and one MIMML run on the planted study, timings per epoch. `npx tsx bench/amm/smoke.ts` */
import { initNodeBackend } from '../../src/train/backend-node.js';
import { plantedStudy } from '../../src/amm/planted.js';
import { createAmm } from '../../src/amm/amm.js';
import { createMimml } from '../../src/amm/mimml.js';
import { trainSeqModel, taskBalancedAccuracy } from '../../src/amm/train.js';

await initNodeBackend();
const decoy = process.argv.includes('--decoy');
const data = plantedStudy({ decoy, mainLabelRate: Number(process.env.RATE ?? 1) });
const epochs = Number(process.env.EPOCHS ?? 15);
for (const [name, mk] of [
  ['amm', (m: string[], t: string[], ie = true, it = true) => createAmm(data, { modalities: m, tasks: t, interModal: ie, interTask: it }, 1)],
  ['mimml', (m: string[], t: string[]) => createMimml(data, { modalities: m, tasks: t }, 1)],
] as const) {
  for (const m of [['activity'], ['speech'], ['activity', 'speech']]) {
    const model = mk(m, ['depressed', 'emotion']);
    const r = await trainSeqModel(data, model, { epochs, patience: 0 });
    console.log(name, model.name, 'params', model.store.count(), 'best epoch', r.bestEpoch, 'dev', r.bestDev.toFixed(3), 'test bacc', taskBalancedAccuracy(r.test).toFixed(3),
      's/epoch', (r.seconds / r.history.length).toFixed(2));
    model.store.dispose();
  }
}
