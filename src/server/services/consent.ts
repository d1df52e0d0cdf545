/**
 * The study information and consent the participant app shows before the first report: the
 * texts, their sha256 (what the participant accepts, so an edited text is not accepted unseen),
 * when this participant accepted them, and the name the app greets them with.
 */
import { sha256 } from '../http/auth.js';
import type { StudyInfo } from '../http/context.js';
import type { Participant } from '../storage/store.js';

/**
 * What the app shows before the first report and how it greets: the study's information and
 * consent texts (their sha256 is what the participant accepts), when this participant accepted
 * them, and their display name (null: the app says "Hello" — never the internal id).
 */
export function introView(p: Participant, info: StudyInfo) {
  const information = info.config.information ?? null, consent = info.config.consent ?? null;
  const textSha256 = sha256(JSON.stringify([information ?? '', consent ?? '']));
  const accepted = p.consented_ms != null && p.consent_sha256 === textSha256;
  return { displayName: p.display_name ?? null, information, consent, textSha256, consentedAt: accepted ? new Date(Number(p.consented_ms)).toISOString() : null };
}
