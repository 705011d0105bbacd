/**
 * Carrier-style opt-out keywords (STOP / START / HELP), in English, Portuguese and Spanish.
 * Only a message that is exactly a keyword counts: "stop sending me bills" is a conversation, not an opt-out.
 */

export type KeywordKind = 'stop' | 'start' | 'help';

/** Normalized forms (lowercase, no accents). */
export const STOP_KEYWORDS = [
  'stop',
  'stopall',
  'unsubscribe',
  'cancel',
  'end',
  'quit',
  'optout',
  'opt-out',
  'revoke',
  'parar',
  'pare',
  'sair',
  'cancelar',
  'descadastrar',
  'baja',
  'alto',
] as const;
// "yes" is deliberately absent: it is far too common a reply to mean "resubscribe me".
export const START_KEYWORDS = ['start', 'unstop', 'subscribe', 'voltar', 'reativar'] as const;
export const HELP_KEYWORDS = ['help', 'info', 'ajuda', 'ayuda'] as const;

const KIND: ReadonlyMap<string, KeywordKind> = new Map<string, KeywordKind>([
  ...STOP_KEYWORDS.map((k) => [k, 'stop'] as const),
  ...START_KEYWORDS.map((k) => [k, 'start'] as const),
  ...HELP_KEYWORDS.map((k) => [k, 'help'] as const),
]);

/** Trim, collapse whitespace, lowercase, strip accents (NFD) and trailing "." / "!" ("Stop." and " STOP! " → "stop"). */
function normalizeKeyword(body: string): string {
  return body
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .trim()
    .replace(/\s+/g, ' ')
    .toLowerCase()
    .replace(/\s*[.!]+$/, '');
}

/** The keyword family of a whole message, or null when the message is anything else. */
export function classifyKeyword(body: string): KeywordKind | null {
  return KIND.get(normalizeKeyword(body)) ?? null;
}
