/**
 * Delivery status ordering (I11, issue 22 D): a status only moves forward; failed, undelivered and canceled are
 * final. Every value of Twilio's Message status enum is here (queued, sending, sent, failed, delivered,
 * undelivered, receiving, received, accepted, scheduled, read, partially_delivered, canceled), plus our own
 * `pending` and `simulated`. `partially_delivered` (some parts or recipients reached, not all) sits between sent
 * and delivered: a later `delivered` still advances it.
 */
const RANK: Record<string, number> = {
  pending: 0,
  simulated: 0,
  accepted: 1,
  scheduled: 1,
  queued: 2,
  sending: 3,
  sent: 4,
  partially_delivered: 5,
  delivered: 6,
  read: 7,
  undelivered: 10,
  failed: 10,
  canceled: 10,
};

/** Statuses of inbound messages in Twilio's enum: a callback for one of our outbound messages never moves it. */
const INBOUND_ONLY = new Set(['receiving', 'received']);

/** Whether a callback reporting `next` may replace `current`. Unknown statuses never overwrite anything. */
export function canAdvanceStatus(current: string, next: string): boolean {
  const from = RANK[current];
  const to = RANK[next];
  if (to === undefined) return false;
  if (from === undefined) return true;
  if (from >= 10) return false;
  return to > from;
}

export const KNOWN_STATUSES = [...Object.keys(RANK), ...INBOUND_ONLY];

/**
 * A MessageStatus the status webhook takes: any lower-case word (Twilio adds statuses; an unknown one is stored
 * as an event and logged, never refused: Twilio does not resend a refused callback). Anything else is malformed.
 */
export const STATUS_SHAPE = /^[a-z][a-z_]{0,39}$/;

/** A status's rank in the order above (undefined for an unknown status): for queries that compare in SQL. */
export function statusRank(status: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(RANK, status) ? RANK[status] : undefined;
}

/** Every known status with its rank, for queries that compare in SQL the way canAdvanceStatus does. */
export const STATUS_RANKS: readonly (readonly [string, number])[] = Object.entries(RANK);
