/**
 * Signed webhooks of threshold notifications (docs/study-design.md "Notifications"):
 *
 * - Signature: header `Moodlens-Signature: t=<unix seconds>,v1=<hex>` where hex is
 *   HMAC-SHA256(study secret, `${t}.${raw body}`). A receiver recomputes it over the raw bytes,
 *   compares in constant time and refuses a `t` outside its replay window (default 5 minutes);
 *   `Moodlens-Notification-Id` is the same on every retry of one notification, so a receiver that
 *   saw it already can drop the repeat. `verifyWebhook` is that receiver's check.
 * - Where it may go: a study's owner sets the URL, so the server must not be made to call into
 *   its own network. URLs must be https without credentials; the host's addresses are checked
 *   when the URL is saved and again when connecting (the connection's own DNS lookup is checked,
 *   so a name cannot resolve to a public address for the check and a private one for the call):
 *   loopback, private, link-local, CGNAT, unique-local, multicast and unspecified addresses are
 *   refused. MOODLENS_NOTIFY_ALLOW_HTTP=1 (local tests) allows http and those addresses.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns';
import { promises as dns } from 'node:dns';

export const SIGNATURE_HEADER = 'Moodlens-Signature';
export const NOTIFICATION_ID_HEADER = 'Moodlens-Notification-Id';
/** How old a signature a receiver should accept (seconds). */
export const REPLAY_WINDOW_S = 300;

/** A new per-study webhook secret (256 bits, base64url). */
export const newWebhookSecret = (): string => randomBytes(32).toString('base64url');

const hmac = (secret: string, t: number, body: string | Buffer) => createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');

/** The signature header's value for `body` sent at `nowMs`. */
export function signWebhook(secret: string, body: string | Buffer, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${hmac(secret, t, body)}`;
}

/** A receiver's check of a signature header: ok, or why not. */
export function verifyWebhook(secret: string, header: string | undefined, body: string | Buffer, nowMs: number, windowS = REPLAY_WINDOW_S): { ok: true; t: number } | { ok: false; reason: string } {
  if (!header) return { ok: false, reason: `no ${SIGNATURE_HEADER} header` };
  const parts = Object.fromEntries(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1 || !/^[0-9a-f]{64}$/.test(parts.v1)) return { ok: false, reason: `malformed ${SIGNATURE_HEADER} header` };
  if (Math.abs(nowMs / 1000 - t) > windowS) return { ok: false, reason: `timestamp ${t} outside the ${windowS} s replay window` };
  const want = Buffer.from(hmac(secret, t, body), 'hex'), got = Buffer.from(parts.v1, 'hex');
  if (!timingSafeEqual(want, got)) return { ok: false, reason: 'signature does not match' };
  return { ok: true, t };
}

/** Address ranges a webhook may not reach (unless allowed for local tests). */
const BLOCKED = (() => {
  const b = new BlockList();
  for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
    ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) b.addSubnet(net, bits, 'ipv4');
  for (const [net, bits] of [['::', 96], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32]] as const) b.addSubnet(net, bits, 'ipv6');
  return b;
})();

/**
 * Is `ip` an address a webhook may be sent to (not loopback, private, link-local, …)? An
 * IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, which URLs spell `::ffff:7f00:1`) is checked as
 * the IPv4 address it is; the unspecified, loopback and IPv4-compatible `::/96` are refused.
 */
export function isPublicAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return isPublicAddress(mapped[1]);
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (hex) {
    const [hi, lo] = [parseInt(hex[1], 16), parseInt(hex[2], 16)];
    return isPublicAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  const v = isIP(ip);
  if (v === 0) return false;
  return !BLOCKED.check(ip, v === 4 ? 'ipv4' : 'ipv6');
}

/** Why a webhook URL is refused (its form only; addresses are checked by `checkWebhookTarget`), or null. */
export function webhookUrlProblem(url: string, allowLocal: boolean): string | null {
  let u: URL;
  try { u = new URL(url); } catch { return 'not a URL'; }
  if (u.protocol !== 'https:' && !(allowLocal && u.protocol === 'http:')) return 'must be an https URL';
  if (u.username || u.password) return 'must not carry a user name or password (the request is signed instead)';
  if (u.hash) return 'must not have a #fragment';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!allowLocal && (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && !isPublicAddress(host)))) return `must not point at a loopback or private address (${host})`;
  return null;
}

/** Resolve the URL's host now and refuse it if any address is not public (saving a URL). */
export async function checkWebhookTarget(url: string, allowLocal: boolean): Promise<string | null> {
  const form = webhookUrlProblem(url, allowLocal);
  if (form || allowLocal) return form;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return null;
  try {
    const addrs = await dns.lookup(host, { all: true });
    const bad = addrs.find((a) => !isPublicAddress(a.address));
    return bad ? `must not point at a loopback or private address (${host} is ${bad.address})` : null;
  } catch (e) {
    return `host ${host} could not be resolved (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
}

/** A dns.lookup for the webhook's connection that refuses non-public addresses (so the address connected to is the address checked). */
export function guardedLookup(allowLocal: boolean): typeof lookup {
  return ((hostname: string, options: any, cb: any) => {
    lookup(hostname, { ...options, all: true }, (err, addrs: any) => {
      if (err) return cb(err);
      const list = addrs as Array<{ address: string; family: number }>;
      const bad = allowLocal ? undefined : list.find((a) => !isPublicAddress(a.address));
      if (bad) return cb(Object.assign(new Error(`${hostname} resolves to the non-public address ${bad.address}`), { code: 'EADDRNOTPUBLIC' }));
      if (options?.all) return cb(null, list);
      return cb(null, list[0].address, list[0].family);
    });
  }) as typeof lookup;
}
