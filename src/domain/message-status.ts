// Delivery status ordering (I11): a status only moves forward; failed and undelivered are final.
const RANK: Record<string, number> = {
  pending: 0,
  simulated: 0,
  accepted: 1,
  scheduled: 1,
  queued: 2,
  sending: 3,
  sent: 4,
  delivered: 5,
  read: 6,
  undelivered: 10,
  failed: 10,
  canceled: 10,
};

/** Whether a callback reporting `next` may replace `current`. Unknown statuses never overwrite anything. */
export function canAdvanceStatus(current: string, next: string): boolean {
  const from = RANK[current];
  const to = RANK[next];
  if (to === undefined) return false;
  if (from === undefined) return true;
  if (from >= 10) return false;
  return to > from;
}

export const KNOWN_STATUSES = Object.keys(RANK);

/** A status's rank in the order above (undefined for an unknown status): for queries that compare in SQL. */
export function statusRank(status: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(RANK, status) ? RANK[status] : undefined;
}

/** Every known status with its rank, for queries that compare in SQL the way canAdvanceStatus does. */
export const STATUS_RANKS: readonly (readonly [string, number])[] = Object.entries(RANK);
