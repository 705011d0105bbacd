/** A pipeline's Temporal hops: activities per workflow, local or regular. No inbound workflow: the webhook
 *  signal-with-starts the conversation itself. */
export interface Steps {
  local: number;
  regular: number;
  /** Regular activities after the reply was sent (bookkeeping that does not delay the reply). */
  after?: number;
  /**
   * The order of the steps up to the reply, `R` regular and `L` local, as Causeway's history recorded them (its
   * turn is the model's regular activity, then the local send). Without it the local steps run first, which for a
   * mixed shape sends the reply one workflow task earlier than a pipeline that ends on a local step.
   */
  order?: string;
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

const describeSteps = (s: Steps) =>
  ([s.regular && `${s.regular} regular`, s.local && `${s.local} local`, s.after && `${s.after} regular after the reply`]
    .filter(Boolean)
    .join(' + ') || 'none') + (s.regular && s.local && s.order ? ` (in order ${s.order})` : '');
export const describeShape = (s: Shape) =>
  `${s.inbound ? `inbound ${describeSteps(s.inbound)}` : 'no inbound workflow'}; conversation ${describeSteps(s.conversation)}`;

/**
 * `inbound=2,conversation=3` or `inbound=0+1L,conversation=1+2L+1A` or `inbound=none,…`: N regular + M local
 * (+ K regular after the reply).
 */
export function parseShape(text: string): Shape {
  const part = (key: string): Steps | null => {
    const m = new RegExp(`${key}=([^,]+)`).exec(text);
    if (!m) throw new Error(`shape "${text}": no ${key}=`);
    if (m[1] === 'none') return null;
    const p = /^(\d+)(?:\+(\d+)L)?(?:\+(\d+)A)?$/.exec(m[1]!);
    if (!p) throw new Error(`shape "${text}": ${key}=${m[1]} is not N, N+ML or N+ML+KA`);
    return { regular: Number(p[1]), local: Number(p[2] ?? 0), after: Number(p[3] ?? 0) };
  };
  const conversation = part('conversation');
  if (!conversation || conversation.regular + conversation.local < 1)
    throw new Error(`shape "${text}": the conversation needs one step (the send)`);
  const inbound = part('inbound');
  if (inbound && inbound.regular + inbound.local < 1) throw new Error(`shape "${text}": inbound needs one step`);
  return { inbound, conversation };
}

/**
 * The shape the lean-pipeline work first chose, before issue 25 D made the model call a regular activity again: the
 * webhook starts `inbound:<sid>`, whose one local activity stores the message and signal-with-starts the
 * conversation, and a new conversation's turn was 4 local activities (open, reply, send, transition). The chosen
 * shape the throughput bar uses is now read from Causeway's histories (bench/hops.ts); this one is reported beside it.
 */
export const PRE_25D: Shape = { inbound: { local: 1, regular: 0 }, conversation: { local: 4, regular: 0 } };
