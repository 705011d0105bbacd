/**
 * Text from a webhook, made storable before it is stored (D). Postgres text and jsonb cannot hold U+0000, and a
 * lone UTF-16 surrogate is not valid UTF-8; either would make the insert fail on every retry. We remove the
 * control characters (category Cc: C0, DEL, C1) except tab, newline and carriage return, and replace lone
 * surrogates with U+FFFD. Everything else stays as the customer wrote it: emoji (pairs, ZWJ sequences),
 * right-to-left text and its bidi marks (category Cf), combining marks.
 */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export interface NormalizedText {
  text: string;
  changed: boolean;
}

export function normalizeInboundText(value: string): NormalizedText {
  const text = value.replace(CONTROL, '').replace(LONE_SURROGATE, '\uFFFD');
  return { text, changed: text !== value };
}

/** The webhook parameters Causeway stores (Body, ProfileName, MediaUrlN, … and the orphan payload: all of them). */
export interface NormalizedParams {
  params: Record<string, string>;
  /** Names of the parameters that changed, for an event and a log line; never their text. */
  normalizedFields: string[];
}

export function normalizeInboundParams(params: Record<string, string>): NormalizedParams {
  const out: Record<string, string> = {};
  const normalizedFields: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    const name = normalizeInboundText(key);
    const normalized = normalizeInboundText(value);
    out[name.text] = normalized.text;
    if (name.changed || normalized.changed) normalizedFields.push(name.text);
  }
  return { params: out, normalizedFields };
}
