/**
 * Model folders only from under --models-dir (issue 15, item 5): names are relative to it; `..`,
 * absolute paths and symbolic links that leave it are refused; the answer for a folder outside is
 * the same as for a missing one and never quotes a file. A property-based test (fast-check) feeds
 * random names — `..`, absolute paths, links in and out, unicode, NUL, backslashes — to the
 * resolver through a recording file system and checks that nothing it touches or returns lies
 * outside the models folder. The HTTP part runs on both back ends.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import * as fs from 'node:fs';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { resolveModelFolder, legacyModelName, modelNotFound, type ModelFs } from '../../src/server/monitoring/model-path.js';
import type { Predictor } from '../../src/server/monitoring/predictor.js';
import { BACKENDS, restartHarness, setupStudy, startHarness, type Harness } from './helpers.js';

const SECRET = 'SECRET-c0ffee-do-not-leak';

/**
 * <root>/models: good/ (a folder with config.json), group/m/, in-link → good, in-abs → <models>/good,
 * out-link → ../outside/secret, out-abs → <outside>/secret, out-file → ../outside/secret/config.json,
 * prefix → ../models-evil/m (a sibling whose name starts with "models"), loop → loop,
 * leaky/ (its config.json links outside), dangling → ./nothing;
 * <root>/outside/secret/config.json holds SECRET; <root>/models-evil/m/ exists.
 */
function layout(root: string) {
  const models = join(root, 'models'), outside = join(root, 'outside');
  for (const d of ['models/good', 'models/group/m', 'models/leaky', 'outside/secret', 'models-evil/m']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(outside, 'secret', 'config.json'), `{"kind": "${SECRET}"}`);
  writeFileSync(join(root, 'models-evil', 'm', 'config.json'), SECRET);
  writeFileSync(join(models, 'good', 'config.json'), '{}');
  symlinkSync('good', join(models, 'in-link'));
  symlinkSync(join(realpathSync(models), 'good'), join(models, 'in-abs'));
  symlinkSync('../outside/secret', join(models, 'out-link'));
  symlinkSync(join(outside, 'secret'), join(models, 'out-abs'));
  symlinkSync('../outside/secret/config.json', join(models, 'out-file'));
  symlinkSync('../models-evil/m', join(models, 'prefix'));
  symlinkSync('loop', join(models, 'loop'));
  symlinkSync('./nothing', join(models, 'dangling'));
  symlinkSync('../../outside/secret/config.json', join(models, 'leaky', 'config.json'));
  return { models, outside };
}

/** node:fs, recording every path the resolver passes to it. */
function recordingFs(touched: string[]): ModelFs {
  return {
    lstatSync: (p) => { touched.push(p); return fs.lstatSync(p); },
    readlinkSync: (p) => { touched.push(p); return fs.readlinkSync(p, 'utf8'); },
    realpathSync: (p) => { touched.push(p); return fs.realpathSync(p); },
    readdirSync: (p) => { touched.push(p); return fs.readdirSync(p); },
  };
}

const within = (root: string, p: string) => { const r = relative(root, p); return r === '' || (!r.startsWith('..') && !isAbsolute(r)); };

describe('resolveModelFolder', () => {
  const root = mkdtempSync(join(tmpdir(), 'moodlens-models-'));
  const { models, outside } = layout(root);
  const realModels = realpathSync(models), realOutside = realpathSync(outside);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('resolves names under the models folder, links that stay inside included', () => {
    expect(resolveModelFolder(models, 'good')).toBe(join(realModels, 'good'));
    expect(resolveModelFolder(models, 'group/m')).toBe(join(realModels, 'group', 'm'));
    expect(resolveModelFolder(models, './group//m/')).toBe(join(realModels, 'group', 'm'));
    expect(resolveModelFolder(models, 'in-link')).toBe(join(realModels, 'good'));
    expect(resolveModelFolder(models, 'in-abs')).toBe(join(realModels, 'good'));
    expect(resolveModelFolder(models, 'in-link/')).toBe(join(realModels, 'good'));
  });

  it('refuses everything else with the same null: outside, missing, a file, a loop, a leaking link inside', () => {
    for (const name of [
      '', '.', './', 'nothing', 'good/config.json', 'good/nothing', '..', '../outside/secret', 'good/../../outside/secret',
      join(realOutside, 'secret'), '/etc', 'C:/Windows', 'out-link', 'out-link/', 'out-abs', 'out-file', 'prefix', 'loop', 'dangling',
      'leaky', 'good\\..\\..\\outside', 'good\0', '\0../outside', 'in-link/../../outside/secret',
    ]) expect(resolveModelFolder(models, name), JSON.stringify(name)).toBeNull();
    expect(resolveModelFolder(join(root, 'no-models-dir'), 'good')).toBeNull();
  });

  it('property: a random name never resolves to, or makes the resolver touch, anything outside the models folder', () => {
    const frag = fc.oneof(
      fc.constantFrom('..', '.', '', 'good', 'group', 'm', 'in-link', 'in-abs', 'out-link', 'out-abs', 'out-file', 'prefix', 'loop',
        'dangling', 'leaky', 'config.json', 'secret', 'outside', 'models', 'models-evil', '\0', '\\', '..\\..', 'é', '🙂', 'ﬁ',
        '\u202e', '%2e%2e', '~', realOutside, realModels, join(realModels, '..')),
      fc.string({ unit: 'grapheme', maxLength: 8 }),
      fc.string({ unit: 'binary', maxLength: 6 }),
    );
    const name = fc.tuple(fc.constantFrom('', '/', '//', './', '../', '\\', 'C:\\', realOutside + '/'), fc.array(frag, { maxLength: 7 }))
      .map(([lead, parts]) => lead + parts.join('/'));
    fc.assert(fc.property(name, (n) => {
      const touched: string[] = [];
      const dir = resolveModelFolder(models, n, recordingFs(touched));
      // Only the models folder itself is realpath'd; every other call names a path inside it.
      for (const p of touched) expect(p === models || within(realModels, p), `touched ${p} for ${JSON.stringify(n)}`).toBe(true);
      if (dir !== null) {
        expect(within(realModels, dir) && dir !== realModels).toBe(true);
        expect(within(realOutside, dir)).toBe(false);
        expect(fs.statSync(dir).isDirectory()).toBe(true);
        expect(realpathSync(dir)).toBe(dir);
      }
    }), { numRuns: 2000 });
  });

  it('maps a stored absolute model_dir to its name only when it lies under the models folder', () => {
    expect(legacyModelName(models, join(models, 'group', 'm'))).toBe('group/m');
    expect(legacyModelName(models, join(realModels, 'in-link'))).toBe('in-link');
    expect(legacyModelName(models, join(outside, 'secret'))).toBeNull();
    expect(legacyModelName(models, join(models, 'out-link'))).toBeNull();
    expect(legacyModelName(models, join(models, '..', 'outside', 'secret'))).toBeNull();
    expect(legacyModelName(models, models + '-evil/m')).toBeNull();
    expect(legacyModelName(models, 'group/m')).toBeNull(); // already a name
  });
});

/** A stand-in predictor: which real folder did the server ask it to load? */
const stub = (seen: string[]) => async (_info: unknown, dir: string): Promise<Predictor> => {
  seen.push(dir);
  return { name: 'stub', predict: async () => ({ items: {} }) } as unknown as Predictor;
};

for (const b of BACKENDS) {
  describe.skipIf(b.skip)(`PUT /studies/:id/model on ${b.name}`, () => {
    let h: Harness;
    let s: Awaited<ReturnType<typeof setupStudy>>;
    let outside: string, models: string;
    const seen: string[] = [];
    beforeAll(async () => {
      h = await startHarness(b.name, { loadPredictor: stub(seen) });
      s = await setupStudy(h);
      models = h.server.ctx.modelsDir;
      outside = mkdtempSync(join(tmpdir(), 'moodlens-outside-'));
      mkdirSync(join(outside, 'secret'));
      writeFileSync(join(outside, 'secret', 'config.json'), SECRET);
      mkdirSync(join(models, 'group', 'm'), { recursive: true });
      symlinkSync('group/m', join(models, 'alias'));
      symlinkSync(join(outside, 'secret'), join(models, 'escape'));
    });
    afterAll(async () => { await h?.close(); rmSync(outside, { recursive: true, force: true }); });

    const attach = (model: string) => h.req('PUT', `/studies/${s.studyId}/model`, { token: s.researcher, body: { model } });

    it('defaults --models-dir to <data-dir>/models and attaches by a name relative to it', async () => {
      expect(models).toBe(join(h.backend.dataDir, 'models'));
      const r = await attach('./group//m/');
      expect(r.status, r.body).toBe(200);
      expect(r.json.model).toBe('group/m');
      expect(seen.at(-1)).toBe(realpathSync(join(models, 'group', 'm')));
      expect((await h.req('GET', `/studies/${s.studyId}/model`, { token: s.researcher })).json.model).toBe('group/m');
      expect((await attach('alias')).status).toBe(200); // a link that stays inside
      expect(seen.at(-1)).toBe(realpathSync(join(models, 'group', 'm')));
    });

    it('gives one answer for a folder outside (it exists) and a missing one, and never quotes a file', async () => {
      const answer = async (name: string) => {
        const r = await attach(name);
        expect(r.status, name).toBe(400);
        expect(r.json.issues[0].field).toBe('body.model');
        expect(r.body).not.toContain(SECRET);
        expect(r.body).not.toContain(outside);
        return r.json.message as string;
      };
      const missing = await answer('no-such-model');
      expect(missing).toBe(`body.model: ${modelNotFound('no-such-model')}`);
      // A link to an existing folder outside: word for word the answer for a missing name.
      expect((await answer('escape')).replace('"escape"', '"no-such-model"')).toBe(missing);
      // Absolute paths and ".." are refused from the name alone — the same answer whether or not the place exists.
      expect(await answer(join(outside, 'secret'))).toBe(await answer(join(outside, 'no-such-folder')));
      expect(await answer('/root/.ssh')).toBe(await answer('/no/such/folder'));
      expect(await answer('../../../../' + outside + '/secret')).toMatch(/may not contain "\.\."/);
      expect(await answer('a\u0000b')).toMatch(/control characters/);
      expect(seen.filter((d) => d.startsWith(realpathSync(outside)))).toEqual([]);
    });

    it('reports a model folder that will not load without quoting its files', async () => {
      const h2 = await startHarness(b.name); // the real loader
      try {
        const s2 = await setupStudy(h2);
        mkdirSync(join(h2.server.ctx.modelsDir, 'junk'));
        writeFileSync(join(h2.server.ctx.modelsDir, 'junk', 'config.json'), `${SECRET} is not JSON`);
        const r = await h2.req('PUT', `/studies/${s2.studyId}/model`, { token: s2.researcher, body: { model: 'junk' } });
        expect(r.status).toBe(400);
        expect(r.json.message).toBe('body.model: could not load a model from "junk": config.json is not valid JSON');
        expect(r.body).not.toContain(SECRET);
        expect(r.body).not.toContain(h2.backend.dataDir);
        expect((await h2.req('GET', `/studies/${s2.studyId}/model`, { token: s2.researcher })).json.model).toBeNull();
      } finally { await h2.close(); }
    });

    it('on start, renames a stored absolute model_dir under --models-dir and detaches one outside, with a logged reason', async () => {
      const t = await setupStudy(h);
      await h.server.store.setModel(s.studyId, join(models, 'group', 'm'));
      await h.server.store.setModel(t.studyId, join(outside, 'secret'));
      h = await restartHarness(h, { loadPredictor: stub(seen) });
      expect((await h.req('GET', `/studies/${s.studyId}/model`, { token: s.researcher })).json.model).toBe('group/m');
      expect((await h.req('GET', `/studies/${t.studyId}/model`, { token: t.researcher })).json.model).toBeNull();
      const audit = (await h.server.store.auditLog(t.studyId, 50)).find((a) => a.resource === 'model');
      expect(audit?.detail).toMatch(/detached: model folders are read only from under --models-dir/);
      expect(seen.filter((d) => d.startsWith(realpathSync(outside)))).toEqual([]);
    });
  });
}
