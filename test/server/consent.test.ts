/**
 * The participant app's consent and greeting (issue 20, item 3): a study with a consent text
 * refuses reports until the participant accepted it (POST /me/consent, recorded with its time and
 * audited, once); the accepted text is named by its sha256, so an edited text is not accepted
 * unseen; the app greets with the display name the researcher gave (sealed at rest, never
 * exported, gone on withdrawal), else with no name — never the internal id; an untouched item is
 * stored as not answered. Both back ends.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { BACKENDS, setupStudy, startHarness, type Harness } from './helpers.js';

const CONFIG = {
  name: 'consent study', timezone: 'UTC',
  information: 'We ask about your mood three times a day.\n\nYou may stop at any time.',
  consent: 'I agree that my answers are stored for this study.',
  items: [{ id: 'happy', label: 'happy', min: 0, max: 100 }, { id: 'tired', label: 'tired', min: 0, max: 100 }],
};

for (const b of BACKENDS) {
  describe.skipIf(b.skip)(`consent and greeting on ${b.name}`, () => {
    let h: Harness;
    beforeAll(async () => { h = await startHarness(b.name); });
    afterAll(async () => { await h?.close(); });

    it('refuses reports before consent, records it once with its time, and greets by name', async () => {
      const s = await setupStudy(h, CONFIG);
      const inv = await h.req('POST', `/studies/${s.studyId}/participants`, { token: s.researcher, body: { participantId: 'P01', displayName: 'Alex' } });
      expect(inv.status).toBe(201);
      const e = await h.req('POST', '/enrol', { body: { code: inv.json.enrolCode } });
      expect(e.json).toMatchObject({ participantId: 'P01', displayName: 'Alex', information: CONFIG.information, consent: CONFIG.consent, consentedAt: null });
      const token = e.json.token as string;
      const me = await h.req('GET', '/me/next', { token });
      expect(me.json).toMatchObject({ displayName: 'Alex', consentedAt: null });
      const sha = me.json.textSha256 as string;
      expect(sha).toMatch(/^[0-9a-f]{64}$/);

      const report = { id: 'a-1', time: new Date().toISOString(), trigger: 'voluntary', answers: { happy: 70 }, itemOrder: ['tired', 'happy'] };
      const before = await h.req('POST', '/me/reports', { token, body: report });
      expect(before.status).toBe(409);
      expect(before.json.message).toMatch(/consent/);

      expect((await h.req('POST', '/me/consent', { token, body: { accepted: true, textSha256: 'a'.repeat(64) } })).status).toBe(409);
      expect((await h.req('POST', '/me/consent', { token, body: { accepted: false, textSha256: sha } })).status).toBe(400);
      const ok = await h.req('POST', '/me/consent', { token, body: { accepted: true, textSha256: sha } });
      expect(ok.status).toBe(200);
      const at = ok.json.consentedAt as string;
      expect(Math.abs(Date.parse(at) - Date.now())).toBeLessThan(60_000);
      // Once: a repeat keeps the first time and writes no second audit row.
      expect((await h.req('POST', '/me/consent', { token, body: { accepted: true, textSha256: sha } })).json.consentedAt).toBe(at);
      expect((await h.req('GET', '/me', { token })).json).toMatchObject({ consentedAt: at, displayName: 'Alex' });

      // The untouched item ("tired") is not answered: absent, not the middle of the scale.
      const after = await h.req('POST', '/me/reports', { token, body: report });
      expect(after.status).toBe(201);
      const stored = await h.req('GET', `/studies/${s.studyId}/participants/P01/reports`, { token: s.researcher });
      expect(stored.json[0].answers).toEqual({ happy: 70 });

      const parts = await h.req('GET', `/studies/${s.studyId}/participants`, { token: s.researcher });
      expect(parts.json[0]).toMatchObject({ participantId: 'P01', displayName: 'Alex', consentedAt: at });
      const audit = await h.req('GET', `/studies/${s.studyId}/audit?resource=consent`, { token: s.researcher });
      expect(audit.json).toHaveLength(1);
      expect(audit.json[0]).toMatchObject({ action: 'write', actor: expect.stringMatching(/^participant:/) });

      // Sealed at rest: the name is not in the database as plaintext.
      const raw = await h.server.store.db.selectFrom('participants').select('display_name').where('label', '=', 'P01').executeTakeFirstOrThrow();
      expect(raw.display_name).not.toContain('Alex');

      // Withdrawal removes the name with the rest.
      expect((await h.req('DELETE', '/me', { token })).status).toBe(200);
      const gone = await h.server.store.db.selectFrom('participants').select('display_name').where('label', '=', 'P01').executeTakeFirstOrThrow();
      expect(gone.display_name).toBeNull();
    });

    it('a study without a consent text takes reports at once; no display name means none (not the id)', async () => {
      const s = await setupStudy(h, { name: 'plain study', timezone: 'UTC' });
      const token = await s.enrol('P02');
      const me = await h.req('GET', '/me', { token });
      expect(me.json).toMatchObject({ displayName: null, information: null, consent: null, consentedAt: null });
      const r = await h.req('POST', '/me/reports', { token, body: { id: 'a-2', time: new Date().toISOString(), trigger: 'voluntary', answers: {}, itemOrder: [] } });
      expect(r.status).toBe(201);
    });
  });
}
