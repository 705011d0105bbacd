/**
 * Twilio's webhook connection overrides: a URL fragment (`#ct=…&rc=…`) on a webhook URL that changes how Twilio
 * connects to it (docs: "Webhooks (HTTP callbacks): Connection Overrides"). Ranges as Twilio documents them.
 */
const NUMERIC: Record<string, { min: number; max: number }> = {
  ct: { min: 100, max: 10_000 }, // connect timeout, ms (default 5000)
  rt: { min: 100, max: 15_000 }, // read timeout, ms (default 15000)
  tt: { min: 100, max: 15_000 }, // total time for all attempts, ms (default 15000)
  rc: { min: 0, max: 5 }, // retry count (default 1)
};
const RETRY_POLICIES = new Set(['4xx', '5xx', 'ct', 'rt', 'all']); // rp, comma-separated (default ct)
const OTHER_KEYS = new Set(['e', 'sni']); // egress edge, SNI

/**
 * What Causeway recommends (docs/operations.md, "Recommended Twilio webhook settings"): fail over fast on connect, give the
 * webhook 7 s to answer (its worst case is the 5 s Temporal start deadline plus parking), and retry up to twice
 * on connect or read timeouts and on 5xx (a 503 means neither Temporal nor Postgres could take the message).
 */
export const RECOMMENDED_CONNECTION_OVERRIDES = 'ct=2000&rt=7000&tt=15000&rc=2&rp=ct,rt,5xx';

/** Problems with an overrides string (without the leading `#`); empty when Twilio would accept it. */
export function connectionOverrideProblems(fragment: string): string[] {
  if (fragment === '') return [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const pair of fragment.split('&')) {
    const [key, value, ...rest] = pair.split('=');
    if (!key || value === undefined || value === '' || rest.length > 0) {
      problems.push(`"${pair}" is not key=value`);
      continue;
    }
    if (seen.has(key)) problems.push(`${key} appears twice`);
    seen.add(key);
    const range = NUMERIC[key];
    if (range) {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < range.min || n > range.max)
        problems.push(`${key} must be an integer from ${range.min} to ${range.max}`);
    } else if (key === 'rp') {
      const bad = value.split(',').filter((p) => !RETRY_POLICIES.has(p));
      if (bad.length > 0) problems.push(`rp accepts ${[...RETRY_POLICIES].join(', ')} (got ${bad.join(', ')})`);
    } else if (!OTHER_KEYS.has(key)) {
      problems.push(`unknown override ${key}`);
    }
  }
  return problems;
}
