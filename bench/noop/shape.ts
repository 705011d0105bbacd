/** A pipeline's Temporal hops: activities per workflow, local or regular. No inbound workflow: the webhook
 *  signal-with-starts the conversation itself. */
export interface Steps {
  local: number;
  regular: number;
}
export interface Shape {
  inbound: Steps | null;
  conversation: Steps;
}
export interface NoopMessage {
  shape: Shape;
  messageSid: string;
  from: string;
  to: string;
  accountSid: string;
  body: string;
}

/** The first wave's pipeline: `inbound:<sid>` with 2 regular activities, the conversation's turn with 3. */
export const FIRST_WAVE: Shape = { inbound: { local: 0, regular: 2 }, conversation: { local: 0, regular: 3 } };

export const describeShape = (s: Shape) =>
  `${s.inbound ? `inbound ${s.inbound.regular}+${s.inbound.local}L` : 'no inbound workflow'}, conversation ${s.conversation.regular}+${s.conversation.local}L`;

/** `inbound=2,conversation=3` or `inbound=0+1L,conversation=1+2L` or `inbound=none,…`: N regular + M local. */
export function parseShape(text: string): Shape {
  const part = (key: string): Steps | null => {
    const m = new RegExp(`${key}=([^,]+)`).exec(text);
    if (!m) throw new Error(`shape "${text}": no ${key}=`);
    if (m[1] === 'none') return null;
    const p = /^(\d+)(?:\+(\d+)L)?$/.exec(m[1]!);
    if (!p) throw new Error(`shape "${text}": ${key}=${m[1]} is not N or N+ML`);
    return { regular: Number(p[1]), local: Number(p[2] ?? 0) };
  };
  const conversation = part('conversation');
  if (!conversation || conversation.regular + conversation.local < 1)
    throw new Error(`shape "${text}": the conversation needs one step (the send)`);
  const inbound = part('inbound');
  if (inbound && inbound.regular + inbound.local < 1) throw new Error(`shape "${text}": inbound needs one step`);
  return { inbound, conversation };
}

/**
 * The shape the lean-pipeline work chose (/work/wt/pipeline-shape.md until it is merged); `--shape` overrides it.
 * Until that note arrives: the first wave's shape with the short database steps as local activities.
 */
export const CHOSEN: Shape = { inbound: { local: 2, regular: 0 }, conversation: { local: 2, regular: 1 } };
