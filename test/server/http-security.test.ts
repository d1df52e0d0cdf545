/**
 * HTTP hardening: security headers on every answer, no-store on API answers (health data), the
 * root URL leads to the dashboard, HSTS only over https, and `serve --tls-cert/--tls-key` serving
 * HTTPS for real (a self-signed certificate made with openssl; skipped with a message without it).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { buildServer } from '../../src/server/server.js';
import { ADMIN, setupStudy, startHarness, type Harness } from './helpers.js';

function hasOpenssl(): boolean { try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); return true; } catch { return false; } }
const OPENSSL = hasOpenssl();
if (!OPENSSL) console.warn('http-security tests: openssl not found — the HTTPS test is skipped');

describe('HTTP hardening', () => {
  let h: Harness;
  afterAll(async () => { await h?.close(); });

  it('sends the security headers and no-store on every API answer, and redirects / to the dashboard', async () => {
    h = await startHarness('sqlite');
    const s = await setupStudy(h);
    // Answers of every kind: success, refusal, validation error, unknown route.
    const answers = [
      await h.req('GET', '/health'),
      await h.req('GET', `/studies/${s.studyId}`, { token: s.researcher }),
      await h.req('GET', `/studies/${s.studyId}/participants`, { token: s.researcher }),
      await h.req('POST', '/auth/login', { body: { email: ADMIN.email, password: 'nope-nope-nope' } }),
      await h.req('GET', '/no/such/route'),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 401, 404]);
    for (const [method, url] of [['GET', '/health'], ['GET', `/studies/${s.studyId}`], ['GET', `/studies/${s.studyId}/participants`], ['POST', '/auth/login'], ['GET', '/no/such/route'], ['GET', '/openapi.json']]) {
      const r = await h.server.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${s.researcher}` } });
      expect(r.headers['cache-control'], url).toBe('no-store');
      expect(r.headers['x-content-type-options'], url).toBe('nosniff');
      expect(r.headers['referrer-policy'], url).toBe('no-referrer');
      expect(r.headers['x-frame-options'], url).toBe('DENY');
      const csp = String(r.headers['content-security-policy']);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).not.toMatch(/unsafe-eval/);
      expect(r.headers['strict-transport-security'], 'no HSTS over plain http').toBeUndefined();
    }
    const root = await h.server.app.inject({ method: 'GET', url: '/' });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/dashboard/');
  });

  it.skipIf(!OPENSSL)('serves HTTPS with --tls-cert/--tls-key, with HSTS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moodlens-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      const server = await buildServer({ db: `sqlite:${join(dir, 'db.sqlite')}`, dataDir: dir, tls: { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) } });
      try {
        const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
        expect(address).toMatch(/^https:\/\//);
        const res = await new Promise<{ status: number; headers: Record<string, unknown>; body: string; cert: string }>((resolve, reject) => {
          const r = request(`${address}/health`, { rejectUnauthorized: false }, (m) => {
            const cert = (m.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN;
            let body = ''; m.on('data', (c) => { body += c; });
            m.on('end', () => resolve({ status: m.statusCode!, headers: m.headers, body, cert }));
            m.on('error', reject);
          });
          r.on('error', reject); r.end();
        });
        expect(res.status).toBe(200);
        expect(JSON.parse(res.body)).toMatchObject({ ok: true });
        expect(res.cert).toBe('localhost');
        expect(String(res.headers['strict-transport-security'])).toMatch(/max-age=\d+/);
      } finally {
        await server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
