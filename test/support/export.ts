/**
 * Start a study export job over HTTP and poll it until it is done (or failed). Shared by the
 * server suites (Fastify inject) and the browser suite (real fetch): both pass their own request
 * function with the Harness shape.
 */
export type Requester = (method: string, url: string, opts?: { token?: string; body?: unknown }) => Promise<{ status: number; json: any; body: string }>;

export async function exportAndWait(req: Requester, token: string, studyId: string, body: Record<string, unknown> = {}, pollMs = 20) {
  const start = await req('POST', `/studies/${studyId}/export`, { token, body });
  if (start.status !== 202) throw new Error(`export: ${start.status} ${start.body}`);
  const seen = new Set<string>([start.json.status]);
  for (;;) {
    const j = await req('GET', start.json.statusUrl, { token });
    seen.add(j.json.status);
    if (j.json.status === 'done' || j.json.status === 'failed') return { job: j.json, start: start.json, statuses: seen };
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
