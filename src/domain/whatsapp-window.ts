/**
 * WhatsApp's customer-service window (Meta): free-form messages may go out for 24 h after the contact's last
 * message to that business number; after that only an approved template (Twilio: ContentSid + ContentVariables).
 */

/**
 * Answers to the customer's own message, which opt-out must not suppress: the STOP/START confirmations (the carrier
 * and Meta expect them) and the fallback apology for a message just received. AI and agent messages are likewise
 * answers within a conversation the customer is holding; everything else the system sends is business-initiated.
 */
const CONVERSATIONAL_SYSTEM_PURPOSES = new Set(['opt_out_confirmation', 'opt_in_confirmation', 'fallback']);

export interface SendPurposeInput {
  purpose?: string;
  template?: { key: string };
  sentBy: 'ai' | 'agent' | 'system';
}

/** The send's purpose: the explicit one, else its template key, else what its author implies. */
export function sendPurpose(input: SendPurposeInput): string {
  if (input.purpose) return input.purpose;
  if (input.template) return input.template.key;
  return input.sentBy === 'agent' ? 'agent_reply' : input.sentBy === 'ai' ? 'ai_reply' : 'broadcast';
}

/** STOP stops these (I12): every system message except the answers listed above. */
export function isBusinessInitiated(input: SendPurposeInput): boolean {
  return input.sentBy === 'system' && !CONVERSATIONAL_SYSTEM_PURPOSES.has(sendPurpose(input));
}

export function windowOpen(lastInboundAt: Date | null, now: Date, windowMs: number): boolean {
  return lastInboundAt !== null && now.getTime() - lastInboundAt.getTime() < windowMs;
}

/** Content API variables are positional ({{1}}, {{2}}…): `positions` maps each position to a variable name. */
export function contentVariables(
  positions: Record<string, string>,
  variables: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(Object.entries(positions).map(([position, name]) => [position, variables[name] ?? '']));
}

/** `--variables` for `causeway template set`: `{"1":"name","2":"amount"}`, positions 1…n mapped to names. */
export function parseContentPositions(json: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error('variables must be JSON, e.g. {"1":"name"}');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('variables must be a JSON object, e.g. {"1":"name"}');
  const out: Record<string, string> = {};
  for (const [position, name] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^[1-9]\d{0,2}$/.test(position)) throw new Error(`variable position "${position}" must be a number from 1`);
    if (typeof name !== 'string' || !/^[a-zA-Z0-9_]+$/.test(name))
      throw new Error(`variable ${position} must name a variable (letters, digits, _)`);
    out[position] = name;
  }
  return out;
}
