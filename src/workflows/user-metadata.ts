import { setCurrentDetails } from '@temporalio/workflow';
import type { SendMessageResult } from '../contract/pipeline';
import { clampUtf8, iso, reasonOnly } from '../domain/wake-reason';

export { iso, reasonOnly };

/**
 * Issue 21 F: what the Temporal Web UI shows about a waiting workflow — a summary on each timer and activity, and
 * the workflow's current details. Whoever may open the workflow in the Web UI reads them (through the codec when
 * payloads are encrypted), so they carry ids, states, times and rule names only: never a phone number, a name or
 * message text.
 * User metadata is not part of the commands a replay compares: adding or changing it needs no patch.
 */

/**
 * The server refuses a command whose summary payload exceeds 400 bytes (`limit.userMetadataSummarySize`), and the
 * payload is more than the text: JSON quotes, the encoding metadata and, with CAUSEWAY_PAYLOAD_KEYS, the cipher's
 * nonce, tag, key id and tenant marker (a 200-byte text came to 384 bytes). The text is cut at SUMMARY_BYTES of
 * UTF-8, on a code point, so a long reason never turns a timer into a failing workflow task.
 */
export const SUMMARY_BYTES = 160;
export const summary = (text: string) => ({ summary: clampUtf8(text, SUMMARY_BYTES) });

/** A send's policy outcome in a few words (what the gate or the sender decided). */
export function sendOutcome(what: string, result: SendMessageResult): string {
  if (!result.skipped) return `${what}: sent (${result.status})`;
  if (result.reason === 'held') return `${what}: held until ${iso(result.until)} — ${reasonOnly(result.detail)}`;
  if (result.reason === 'refused') return `${what}: refused — ${result.detail}`;
  return `${what}: not sent (${result.reason})`;
}

/**
 * Current details as short markdown: one `**label:** value` paragraph per entry, empty values left out. Values are
 * code spans: the Web UI's markdown would otherwise set a statute's `15.426/2014` as a fraction.
 */
export function showDetails(title: string, entries: [string, string | number | null | undefined][]): void {
  const lines = entries
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `**${k}:** \`${String(v).replace(/`/g, "'")}\``);
  setCurrentDetails([`### ${title}`, ...lines].join('\n\n'));
}
