/**
 * Response schemas (src/server/http/responses.ts): every operation of the OpenAPI document
 * declares its answers, and the serializer sends JSON.stringify's bytes — with the check the test
 * suite turns on (MOODLENS_CHECK_RESPONSES=1, vitest.config.ts), an answer that does not match its
 * schema exactly fails instead of going out.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { z } from 'zod';
import { responseSerializer } from '../../src/server/http/responses.js';
import { startHarness, type Harness } from './helpers.js';

describe('response schemas', () => {
  let h: Harness | undefined;
  afterAll(async () => { await h?.close(); });

  it('are declared by every operation of the OpenAPI document, with the error answers', async () => {
    h = await startHarness('sqlite');
    const doc = (await h.req('GET', '/openapi.json')).json;
    const missing: string[] = [];
    let operations = 0;
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { responses?: Record<string, unknown> }>>)) {
      for (const [method, op] of Object.entries(ops)) {
        operations++;
        const codes = Object.keys(op.responses ?? {});
        if (!codes.some((c) => /^2\d\d$/.test(c)) || !codes.includes('4XX')) missing.push(`${method.toUpperCase()} ${path}: ${codes.join(', ') || 'none'}`);
      }
    }
    expect(operations).toBeGreaterThan(50);
    expect(missing).toEqual([]);
    // A response's fields are in the document (the web app's types come from the same schemas).
    expect(Object.keys(doc.paths['/me/next'].get.responses['200'].content['application/json'].schema.properties))
      .toEqual(['prompt', 'studyOver', 'wakeAndBed', 'timezone', 'items', 'speech', 'now', 'open', 'design', 'clock', 'answered', 'displayName', 'information', 'consent', 'textSha256', 'consentedAt']);
  });

  it('send the bytes JSON.stringify gives, and with the check refuse an answer that differs from its schema', () => {
    const schema = z.object({ a: z.number(), b: z.string().nullable(), c: z.number().nullable() });
    const route = { schema, method: 'GET', url: '/x' };
    const ok = { b: null, a: 1, c: NaN }; // key order as the handler made it; NaN goes out as null
    expect(responseSerializer(false)(route)(ok)).toBe(JSON.stringify(ok));
    expect(responseSerializer(true)(route)(ok)).toBe(JSON.stringify(ok));
    expect(responseSerializer(false)(route)({ a: 'x', extra: 1 })).toBe('{"a":"x","extra":1}'); // unchecked: as it is
    expect(() => responseSerializer(true)(route)({ a: 1, b: 'y', c: 2, extra: 1 })).toThrow(/GET \/x has fields its schema does not declare/);
    expect(() => responseSerializer(true)(route)({ a: 1, c: 2 })).toThrow(/GET \/x does not match its schema: b:/);
    expect(() => responseSerializer(true)(route)({ a: '1', b: null, c: 2 })).toThrow(/a: /);
  });
});
