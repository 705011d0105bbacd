/**
 * Issue 22 C: a WhatsApp Content template send is checked before the Twilio call. A configured template declares
 * its variables (`causeway template set … --variables '{"1":"name","2":"text"}'`: position → the send's variable
 * name). Twilio refuses a null or empty value (21656) and Meta a parameter count that does not match the template
 * (63028, reported asynchronously); positions must be numbered 1…n without gaps (Twilio's Content API rule). So
 * every declared position must be sequential and every named variable present and non-blank in what the send
 * supplies, else the send is refused as `template_variables` with no call.
 */
export type TemplateVariableProblem =
  { position: string; name: string; problem: 'missing' | 'empty' } | { position: string; problem: 'not_sequential' };

export type TemplateVariablesCheck =
  { ok: true; values: Record<string, string> } | { ok: false; problems: TemplateVariableProblem[] };

export function checkTemplateVariables(
  positions: Record<string, string>,
  supplied: Record<string, string | null | undefined>,
): TemplateVariablesCheck {
  const problems: TemplateVariableProblem[] = [];
  const ordered = Object.keys(positions)
    .map(Number)
    .sort((a, b) => a - b);
  ordered.forEach((n, i) => {
    if (n !== i + 1) problems.push({ position: String(n), problem: 'not_sequential' });
  });
  const values: Record<string, string> = {};
  for (const n of ordered) {
    const position = String(n);
    const name = positions[position]!;
    const value = Object.prototype.hasOwnProperty.call(supplied, name) ? supplied[name] : undefined;
    if (value === undefined || value === null) problems.push({ position, name, problem: 'missing' });
    else if (value.trim() === '') problems.push({ position, name, problem: 'empty' });
    else values[position] = value;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, values };
}

/** For errors and alerts: names and positions only, never values (they may carry personal data). */
export function describeTemplateProblems(problems: TemplateVariableProblem[]): string {
  return problems
    .map((p) => ('name' in p ? `{{${p.position}}} ${p.name} ${p.problem}` : `{{${p.position}}} not sequential`))
    .join(', ');
}
