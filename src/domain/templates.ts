/** `{{name}}` placeholders; a missing variable renders as empty text rather than leaking the placeholder. */
export function renderTemplate(
  body: string,
  variables: Record<string, string | number | null | undefined> = {},
): string {
  return body
    .replace(/\{\{\s*([a-zA-Z0-9_]+)\s*\}\}/g, (_, name: string) => {
      const value = variables[name];
      return value === null || value === undefined ? '' : String(value);
    })
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

/** Keys of the built-in system messages (drizzle/0001_seed_default_templates.sql). */
export type SystemTemplateKey =
  | 'idle_nudge'
  | 'closing'
  | 'nps_question'
  | 'nps_thanks'
  | 'fallback'
  | 'handoff_notice'
  | 'agent_joined'
  | 'opt_out_confirmation'
  | 'opt_in_confirmation'
  | 'promise_confirmation'
  | 'promise_reminder'
  | 'promise_thanks'
  | 'promise_broken'
  | 'desk_closed';
