import type { IdentityCheck } from '../contract/statuses';

/**
 * Issue 23 E, identity before disclosure (CDC art. 42, LGPD art. 6 and 46): a collection message reaches a number,
 * not a person, so no debt detail (amount, creditor, due date, document) goes to a contact who has not proven, in
 * this conversation, that they are the campaign target: the last 4 digits of the target's CPF, or their birth date.
 * Pure functions; the turn activity and the senders apply them.
 */

/** Template keys whose text carries debt details: replaced by `identity_request` until the contact is confirmed. */
export const DEBT_TEMPLATE_KEYS = new Set([
  'collection_notice',
  'promise_confirmation',
  'promise_reminder',
  'promise_thanks',
  'promise_broken',
]);

/** Target variables a birth date may be imported under (CSV column names). */
const BIRTH_DATE_KEYS = ['birth_date', 'birthdate', 'data_nascimento', 'nascimento', 'dob'];

export type IdentityResult = 'confirmed' | 'mismatch' | 'no_answer' | 'no_data';

/** What the contact is asked to send, for the identity_request template and the prompt. */
export function identityPrompt(method: Exclude<IdentityCheck, 'off'>, locale: string): string {
  const pt = locale.startsWith('pt');
  if (method === 'birth-date') return pt ? 'sua data de nascimento (dd/mm/aaaa)' : 'your date of birth (dd/mm/yyyy)';
  return pt ? 'os 4 últimos dígitos do seu CPF' : 'the last 4 digits of your CPF (tax id)';
}

const digitsOf = (s: string) => s.replace(/\D/g, '');

/** `YYYY-MM-DD` from `YYYY-MM-DD`, `DD/MM/YYYY`, `DD-MM-YYYY`, `DD.MM.YYYY` or `DDMMYYYY`; null otherwise. */
function normalizeDate(value: string): string | null {
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  const br = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(value.trim()) ?? /^(\d{2})(\d{2})(\d{4})$/.exec(value.trim());
  const [y, m, d] = iso ? [iso[1]!, iso[2]!, iso[3]!] : br ? [br[3]!, br[2]!, br[1]!] : [];
  if (!y || !m || !d) return null;
  const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
  if (date.getUTCMonth() !== Number(m) - 1 || date.getUTCDate() !== Number(d)) return null;
  return `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
}

/** The value the contact must give, from the campaign target's data; null when the target has none to check. */
export function expectedIdentity(
  method: Exclude<IdentityCheck, 'off'>,
  target: { document: string | null; variables: Record<string, string> | null },
): string | null {
  if (method === 'cpf-last-digits') {
    const digits = digitsOf(target.document ?? '');
    return digits.length >= 4 ? digits : null;
  }
  const vars = target.variables ?? {};
  for (const key of BIRTH_DATE_KEYS) {
    const value = vars[key];
    if (value) return normalizeDate(value);
  }
  return null;
}

/**
 * Does `text` answer the check? cpf-last-digits: a group of exactly 4 digits equal to the document's last 4, or the
 * whole document typed (dots and dashes allowed); birth-date: a date equal to the target's. `mismatch` when the text
 * holds a candidate that is wrong, `no_answer` when it holds none (the customer talked about something else).
 */
export function checkIdentity(
  method: Exclude<IdentityCheck, 'off'>,
  expected: string | null,
  text: string,
): IdentityResult {
  if (expected === null) return 'no_data';
  if (method === 'cpf-last-digits') {
    // Digit groups, allowing the separators of a written CPF (123.456.789-09) inside one group.
    const groups = (text.match(/\d[\d.\- ]*\d|\d/g) ?? []).map(digitsOf);
    const candidates = groups.filter((g) => g.length === 4 || g.length === expected.length);
    if (candidates.length === 0) return 'no_answer';
    return candidates.some((g) => (g.length === 4 ? g === expected.slice(-4) : g === expected))
      ? 'confirmed'
      : 'mismatch';
  }
  const dates = (text.match(/\d{4}-\d{2}-\d{2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\b\d{8}\b/g) ?? [])
    .map(normalizeDate)
    .filter((d): d is string => d !== null);
  if (dates.length === 0) return 'no_answer';
  return dates.includes(expected) ? 'confirmed' : 'mismatch';
}

/**
 * Whether a reply mentions the withheld debt: the amount (as formatted for the locale, or as a bare number such as
 * 1500,00 / 1500.00 / 1.500,00) or the due date (any common way of writing it). The last guard before a reply to an
 * unconfirmed contact goes out: the prompt holds no debt, but the history or the customer might have.
 */
export function mentionsDebt(reply: string, debt: { amountCents: number | null; due: string | null }): boolean {
  const compact = reply.replace(/\s/g, '');
  if (debt.amountCents !== null && debt.amountCents > 0) {
    const units = Math.floor(debt.amountCents / 100);
    const cents = String(debt.amountCents % 100).padStart(2, '0');
    const grouped = units.toLocaleString('pt-BR');
    const groupedEn = units.toLocaleString('en-US');
    const forms = [`${units},${cents}`, `${units}.${cents}`, `${grouped},${cents}`, `${groupedEn}.${cents}`];
    if (cents === '00') forms.push(`R$${units}`, `R$${grouped}`, `$${units}`, `$${groupedEn}`);
    if (forms.some((f) => compact.includes(f))) return true;
  }
  if (debt.due) {
    const [y, m, d] = debt.due.split('-');
    const forms = [debt.due, `${d}/${m}/${y}`, `${d}/${m}/${y!.slice(2)}`, `${d}/${m}`, `${m}/${d}/${y}`];
    if (forms.some((f) => compact.includes(f.replace(/\s/g, '')))) return true;
  }
  return false;
}

/** The assistant's answer when a reply would have disclosed a debt to an unconfirmed contact. */
export function identityReminder(method: Exclude<IdentityCheck, 'off'>, locale: string): string {
  return locale.startsWith('pt')
    ? `Para proteger seus dados, antes de falarmos de valores preciso confirmar sua identidade: por favor, envie ${identityPrompt(method, locale)}.`
    : `To protect your data, I need to confirm your identity before we discuss any amounts: please send ${identityPrompt(method, locale)}.`;
}
