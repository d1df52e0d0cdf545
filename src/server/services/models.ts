/**
 * The model folders a study may attach: every folder under --models-dir with a config.json (one
 * or two levels down), with its kind, items, whether they fit the study, and its stored
 * evaluation — read without loading any weights.
 */
import { targetItems } from '../../data/instruments.js';
import { readdirSync } from 'node:fs';
import { ModelFolderError, readModelConfig } from '../../model/folder-node.js';
import type { ServerContext, StudyInfo } from '../http/context.js';
import { BUILTIN_BASELINE } from '../monitoring/monitor.js';
import { storedEvaluation } from './dashboard.js';

/** Model folders listed at most (names one or two levels under --models-dir). */
const MAX_MODELS = 500;

/**
 * The model folders under the models folder, named as the attach route takes them ("mood-v3",
 * "2024/mood-v3"): a folder with a config.json is a model; one without is looked into once.
 */
function modelNames(modelsDir: string): string[] {
  const dirs = (rel: string) => { try { return readdirSync(rel ? `${modelsDir}/${rel}` : modelsDir, { withFileTypes: true }).filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => (rel ? `${rel}/${e.name}` : e.name)).sort(); } catch { return []; } };
  const has = (name: string) => { try { return readdirSync(`${modelsDir}/${name}`).includes('config.json'); } catch { return false; } };
  const out: string[] = [];
  for (const top of dirs('')) {
    if (out.length >= MAX_MODELS) break;
    if (has(top)) out.push(top); else out.push(...dirs(top).filter(has));
  }
  return out.slice(0, MAX_MODELS);
}

/** What GET /studies/:studyId/models answers: the built-in predictor, the attached model, and the folders to choose from. */
export function listModels(ctx: ServerContext, info: StudyInfo) {
  const studyItems = targetItems(info.config).map((i) => i.id);
  type Listed = { name: string; kind: string | null; items: string[]; fits: boolean; misfit: string | null; bestDevCCC: number | null; evaluation: { meanCCC: number | null; n: number; split: string | null } | null; note: string | null };
  const models = modelNames(ctx.modelsDir).flatMap((name): Listed[] => {
    const folder = ctx.modelFolder(name); // inside --models-dir only (model-path.ts)
    if (!folder) return [];
    try {
      const meta = readModelConfig(folder);
      const items = meta.items.map((i) => i.id);
      const missing = studyItems.filter((id) => !items.includes(id));
      let evaluation: { meanCCC: number | null; n: number; split: string | null } | null = null, note: string | null = null;
      try { const e = storedEvaluation(folder); if (e) evaluation = { meanCCC: e.meanCCC, n: e.n, split: e.split }; } catch (e) { note = (e as Error).message; }
      return [{ name, kind: meta.kind, items, fits: missing.length === 0, misfit: missing.length ? `the study's items ${missing.join(', ')} are not the model's` : null, bestDevCCC: typeof meta.bestDev === 'number' ? meta.bestDev : null, evaluation, note }];
    } catch (e) {
      return [{ name, kind: null, items: [], fits: false, misfit: null, bestDevCCC: null, evaluation: null, note: e instanceof ModelFolderError ? e.message : 'not a readable model folder' }];
    }
  });
  return { builtin: [BUILTIN_BASELINE], attached: info.study.model_dir, models };
}
