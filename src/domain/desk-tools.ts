/**
 * Issue 20 E: pure helpers of the agent tools (canned responses, search paging, export masking).
 */

/** Variables a canned response may use; anything else in {{…}} is left as written so the agent sees it. */
export const CANNED_VARIABLES = ['first_name', 'name', 'agent_name', 'department'] as const;
export type CannedVariables = Partial<Record<(typeof CANNED_VARIABLES)[number], string>>;

/** The variables of a conversation: the contact's name (first word = first_name), the agent's, the department. */
export function cannedVariables(input: {
  contactName: string | null;
  agentName: string;
  department: string | null;
}): CannedVariables {
  const name = input.contactName?.trim() ?? '';
  return {
    name,
    first_name: name.split(/\s+/)[0] ?? '',
    agent_name: input.agentName,
    department: input.department ?? '',
  };
}

/** Fills `{{variable}}` (spaces allowed inside the braces). Unknown variables stay; known but empty ones go. */
export function renderCanned(body: string, variables: CannedVariables): string {
  return body.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (whole, key: string) =>
    key in variables ? (variables[key as keyof CannedVariables] ?? '') : whole,
  );
}

/** The {{variables}} a body names that are not known (refused when a canned response is saved). */
export function unknownCannedVariables(body: string): string[] {
  const names = [...body.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((m) => m[1] ?? '');
  return [...new Set(names.filter((n) => !(CANNED_VARIABLES as readonly string[]).includes(n)))];
}

/** Keyset cursor of the conversation search: the last row's start instant and id, opaque to clients. */
export function encodeCursor(row: { startedAt: Date; id: string }): string {
  return Buffer.from(`${row.startedAt.toISOString()}|${row.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { startedAt: Date; id: string } | null {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  if (!at || !id || !/^[0-9a-f-]{36}$/i.test(id)) return null;
  const startedAt = new Date(at);
  return Number.isNaN(startedAt.getTime()) ? null : { startedAt, id };
}

/**
 * A phone number as a CSV export shows it to non-admins: its first two digits (the country code, or +1 and one
 * more) and the last two, the rest masked
 * (`+55*********21`). Enough to tell rows apart and to recognise a number one already has; not enough to dial.
 */
export function maskPhone(phone: string): string {
  const m = /^(\+\d{1,2})(\d*)(\d{2})$/.exec(phone);
  if (!m) return phone.startsWith('erased:') ? 'erased' : '***';
  return `${m[1]}${'*'.repeat(m[2]!.length)}${m[3]}`;
}
