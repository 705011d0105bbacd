// Issue 25 C: a campaign send's status callback in ONE statement (applyPlainStatus with the target's step in SQL).
// Over a matrix of target snapshots × statuses × early (found by id before the SID was stored) or not, the
// one-statement path and the general path (applyInTx → applyTargetEvent → nextTargetState) are run on twin rows
// at the same instant, and the target rows, counter deltas, messages and wake-ups must come out the same.
import { randomBytes, randomUUID } from 'node:crypto';
import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { applyDeliveryStatus, applyGeneralStatus, type StatusCallback } from '../../src/db/ingress/delivery-status';
import { createDb } from '../../src/db/core/client';
import { campaignCounterDeltas, campaigns, campaignTargets, contacts, events, messages } from '../../src/db/schema';
import { newMessageSid } from '../../src/integrations/signed-webhook';
import { newRootTrace } from '../../src/domain/trace';
import { seedTenant, testDb } from '../support/db';

const handle = testDb();
const { db } = handle;
/** A second pool whose statements are counted (postgres.js's debug hook sees every statement, BEGIN and COMMIT too). */
let counted = 0;
const counting = createDb(inject('databaseUrl'), {
  max: 2,
  embedded: inject('databaseEmbedded'),
  onQuery: () => {
    counted += 1;
  },
});
afterAll(async () => {
  await counting.close();
  await handle.close();
});

let tenantId: string;
let contactId: string;
let otherContactId: string;
let sender: string;
beforeAll(async () => {
  const seeded = await seedTenant(db);
  tenantId = seeded.tenant.id;
  sender = `whatsapp:${seeded.phone}`;
  const [a, b] = await db
    .insert(contacts)
    .values(['+5511900000001', '+5511900000002'].map((phone) => ({ tenantId, phone, phoneHash: `h-${randomUUID()}` })))
    .returning({ id: contacts.id });
  contactId = a!.id;
  otherContactId = b!.id;
  // Both connections of the counted pool opened (postgres.js reads the array types once per connection).
  await Promise.all([counting.sql`select pg_sleep(0.05)`, counting.sql`select pg_sleep(0.05)`]);
});

interface Snapshot {
  state: 'sending' | 'scheduled' | 'completed';
  outcome: string | null;
  attemptCount: number;
  contacted: boolean;
  succeeded: boolean;
  replied: boolean;
}
interface Cell {
  snapshot: Snapshot;
  retryOnNoReply: boolean;
  spacingSeconds: number;
  status: string;
  early: boolean;
  /** Another target of the campaign is still open: the campaign is woken only on a reschedule then. */
  othersOpen: boolean;
  priorStatus: string;
}

const MAX_ATTEMPTS = 2;
const STATES: Pick<Snapshot, 'state' | 'outcome'>[] = [
  { state: 'sending', outcome: null },
  { state: 'scheduled', outcome: 'awaiting_reply' },
  { state: 'completed', outcome: 'delivered' },
];
// Without an ErrorCode (a failure with one takes the general path): `undelivered` and `failed` are handled in the
// statement like nextTargetState does; `canceled` is a final status that only moves a sending target's last status.
const STATUSES = ['queued', 'sent', 'delivered', 'read', 'undelivered', 'failed', 'canceled'];

function matrix(): Cell[] {
  const cells: Cell[] = [];
  let i = 0;
  for (const s of STATES)
    for (const attemptCount of [MAX_ATTEMPTS, MAX_ATTEMPTS - 1])
      for (const contacted of [false, true])
        for (const succeeded of [false, true])
          for (const replied of [false, true])
            for (const retryOnNoReply of [false, true])
              // 60 s: the retry instant is already past (now wins); 3600 s: it is ahead. Only a `sending` target
              // can be rescheduled: the others take one spacing.
              for (const spacingSeconds of s.state === 'sending' ? [60, 3600] : [3600])
                for (const status of STATUSES)
                  for (const early of [false, true])
                    cells.push({
                      snapshot: { ...s, attemptCount, contacted, succeeded, replied },
                      retryOnNoReply,
                      spacingSeconds,
                      status,
                      early,
                      othersOpen: i++ % 3 === 0,
                      priorStatus: early ? 'pending' : 'accepted',
                    });
  return cells;
}

// An instant with microseconds (as Postgres's now() writes it): the general path reads it at millisecond precision.
const NOW = new Date(Date.now() - 1000);
const LAST_ATTEMPT = sql`${new Date(NOW.getTime() - 30 * 60_000).toISOString()}::timestamptz + interval '123 microseconds'`;
const EARLIER = new Date(NOW.getTime() - 20 * 60_000);

interface Twin {
  campaignId: string;
  targetId: string;
  messageId: string;
  sid: string;
}

/** One campaign, its target in the cell's snapshot (plus an open one when asked), the send's message. */
async function twin(cell: Cell, tag: string): Promise<Twin> {
  const campaignId = randomUUID();
  const trace = newRootTrace();
  await db.insert(campaigns).values({
    id: campaignId,
    tenantId,
    name: `status-${tag}-${randomBytes(6).toString('hex')}`,
    kind: 'broadcast',
    status: 'active',
    channel: 'whatsapp',
    sender,
    body: 'x',
    ratePerSecond: 10,
    maxAttempts: MAX_ATTEMPTS,
    attemptSpacingSeconds: cell.spacingSeconds,
    retryOnNoReply: cell.retryOnNoReply,
    activeHours: 'always',
    defaultTimeZone: 'UTC',
    workflowId: `campaign:${campaignId}`,
    traceId: trace.traceId,
    createdBy: 'test',
  });
  const s = cell.snapshot;
  const [target] = await db
    .insert(campaignTargets)
    .values({
      campaignId,
      tenantId,
      contactId,
      line: 1,
      orderKey: 1,
      state: s.state,
      outcome: s.outcome,
      attemptCount: s.attemptCount,
      lastAttemptAt: LAST_ATTEMPT,
      nextAttemptAt: EARLIER,
      lastStatus: 'accepted',
      lastStatusAt: EARLIER,
      contactedAt: s.contacted ? EARLIER : null,
      succeededAt: s.succeeded ? EARLIER : null,
      repliedAt: s.replied ? EARLIER : null,
      completedAt: s.state === 'completed' ? EARLIER : null,
      updatedAt: EARLIER,
    })
    .returning({ id: campaignTargets.id });
  if (cell.othersOpen)
    await db.insert(campaignTargets).values({ campaignId, tenantId, contactId: otherContactId, line: 2, orderKey: 2 });
  const sid = newMessageSid();
  const [message] = await db
    .insert(messages)
    .values({
      tenantId,
      contactId,
      direction: 'outbound',
      channel: 'whatsapp',
      providerSid: cell.early ? null : sid,
      fromAddress: sender,
      toAddress: 'whatsapp:+5511900000001',
      body: 'x',
      sentBy: 'system',
      status: cell.priorStatus,
      correlationId: `campaign:${campaignId}`,
      traceId: trace.traceId,
      spanId: trace.spanId,
      campaignTargetId: target!.id,
    })
    .returning({ id: messages.id });
  return { campaignId, targetId: target!.id, messageId: message!.id, sid };
}

const callback = (cell: Cell, t: Twin): StatusCallback => ({
  tenantId,
  messageSid: t.sid,
  status: cell.status,
  errorCode: null,
  messageId: t.messageId,
});

/** Everything a callback may have moved, without the rows' own ids. */
async function outcomeOf(t: Twin) {
  const [target] = await db.select().from(campaignTargets).where(eq(campaignTargets.id, t.targetId));
  const { id: _id, campaignId: _c, createdAt: _ca, ...targetRow } = target!;
  const deltas = (
    await db
      .select()
      .from(campaignCounterDeltas)
      .where(eq(campaignCounterDeltas.campaignId, t.campaignId))
      .orderBy(campaignCounterDeltas.id)
  ).map(({ id: _i, campaignId: _cc, ...d }) => d);
  const [message] = await db
    .select({ status: messages.status, providerSid: messages.providerSid, errorCode: messages.errorCode })
    .from(messages)
    .where(eq(messages.id, t.messageId));
  const statusEvents = await db
    .select({ type: events.type, payload: events.payload })
    .from(events)
    .where(eq(events.messageId, t.messageId));
  return {
    target: targetRow,
    deltas,
    message: { ...message!, providerSid: message!.providerSid === t.sid },
    statusEvents,
  };
}

/** The fields (one level into each part) where the one-statement path and the general path disagree. */
function differences(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const part of Object.keys(b)) {
    const [pa, pb] = [a[part], b[part]] as [unknown, unknown];
    const fields =
      pb && typeof pb === 'object' && !Array.isArray(pb) ? Object.keys(pb) : [undefined as string | undefined];
    for (const f of fields) {
      const va = JSON.stringify(f === undefined ? pa : (pa as Record<string, unknown>)?.[f]);
      const vb = JSON.stringify(f === undefined ? pb : (pb as Record<string, unknown>)?.[f]);
      if (va !== vb) out.push(`${part}${f === undefined ? '' : `.${f}`}: one statement ${va}, general ${vb}`);
    }
  }
  return out;
}

const describeCell = (c: Cell) =>
  `${c.snapshot.state}/${c.snapshot.outcome} attempts ${c.snapshot.attemptCount}/${MAX_ATTEMPTS} contacted ${c.snapshot.contacted} succeeded ${c.snapshot.succeeded} replied ${c.snapshot.replied} retryOnNoReply ${c.retryOnNoReply} spacing ${c.spacingSeconds}s othersOpen ${c.othersOpen} · ${c.status}${c.early ? ' (early, by id)' : ''}`;

describe('campaign status callback in one statement (issue 25 C)', () => {
  it('moves the target, its counters and the campaign wake-up exactly as the general path, in one statement each', async () => {
    const cells = matrix();
    const mismatches: string[] = [];
    const notOne: string[] = [];
    let moved = 0;
    let woken = 0;
    for (const cell of cells) {
      const [fast, general] = await Promise.all([twin(cell, 'fast'), twin(cell, 'general')]);
      const before = counted;
      const a = await applyDeliveryStatus(counting.db, callback(cell, fast), NOW);
      if (counted - before !== 1) notOne.push(`${describeCell(cell)}: ${counted - before} statements`);
      const b = await applyGeneralStatus(db, callback(cell, general), NOW);
      const [oa, ob] = await Promise.all([outcomeOf(fast), outcomeOf(general)]);
      const ra = { outcome: a.outcome, wake: a.campaignToNotify === fast.campaignId, other: a.campaignToNotify };
      const rb = { outcome: b.outcome, wake: b.campaignToNotify === general.campaignId, other: b.campaignToNotify };
      ra.other = ra.wake || ra.other === null ? null : 'foreign';
      rb.other = rb.wake || rb.other === null ? null : 'foreign';
      const differs = differences({ ...oa, result: ra }, { ...ob, result: rb });
      if (differs.length > 0) mismatches.push(`${describeCell(cell)}: ${differs.join('; ')}`);
      if (oa.target.updatedAt.getTime() === NOW.getTime()) moved += 1;
      if (ra.wake) woken += 1;
    }
    expect(mismatches.slice(0, 3)).toEqual([]);
    expect(notOne.slice(0, 5)).toEqual([]);
    // The matrix does exercise the step: most cells move their target, some wake the campaign, some do not.
    expect(moved).toBeGreaterThan(cells.length / 3);
    expect(woken).toBeGreaterThan(0);
    expect(woken).toBeLessThan(cells.length);
    // About 1,800 cells of twin rows, each one at a time (the statement count is per callback): minutes on a busy machine.
  }, 300_000);

  it('a callback that cannot advance the status is ignored in one statement; a failure with an ErrorCode is left to the general path', async () => {
    const cell: Cell = {
      snapshot: { state: 'sending', outcome: null, attemptCount: 1, contacted: true, succeeded: false, replied: false },
      retryOnNoReply: false,
      spacingSeconds: 60,
      status: 'sent',
      early: false,
      othersOpen: false,
      priorStatus: 'delivered',
    };
    const late = await twin(cell, 'late');
    const before = counted;
    expect((await applyDeliveryStatus(counting.db, callback(cell, late), NOW)).outcome).toBe('ignored');
    expect(counted - before).toBe(1);
    expect((await outcomeOf(late)).target).toMatchObject({ state: 'sending', lastStatus: 'accepted' });

    // 30008 (retryable) on a campaign send: classified by the general path (more than one statement), which
    // reschedules the target; the one-statement try changed nothing before it.
    const failing = await twin({ ...cell, priorStatus: 'sent' }, 'failing');
    const start = counted;
    const r = await applyDeliveryStatus(
      counting.db,
      { ...callback(cell, failing), status: 'undelivered', errorCode: '30008' },
      NOW,
    );
    expect(r.outcome).toBe('updated');
    expect(counted - start).toBeGreaterThan(1);
    const o = await outcomeOf(failing);
    expect(o.target).toMatchObject({
      state: 'scheduled',
      outcome: 'retry_after_undelivered',
      lastStatus: 'undelivered',
    });
    expect(o.message).toMatchObject({ status: 'undelivered', errorCode: '30008' });
    expect(o.statusEvents.filter((e) => e.type === 'message.status')).toHaveLength(1);
  });

  it('the common sent and delivered callbacks of a campaign send are one statement each', async () => {
    const cell: Cell = {
      snapshot: {
        state: 'sending',
        outcome: null,
        attemptCount: 1,
        contacted: false,
        succeeded: false,
        replied: false,
      },
      retryOnNoReply: false,
      spacingSeconds: 60,
      status: 'sent',
      early: true,
      othersOpen: true,
      priorStatus: 'pending',
    };
    const t = await twin(cell, 'common');
    for (const status of ['sent', 'delivered']) {
      const before = counted;
      const r = await applyDeliveryStatus(counting.db, { ...callback(cell, t), status });
      expect(r.outcome).toBe('updated');
      expect(counted - before).toBe(1);
    }
    const o = await outcomeOf(t);
    expect(o.target).toMatchObject({ state: 'completed', outcome: 'delivered', lastStatus: 'delivered' });
    expect(o.deltas).toEqual([
      { contacted: 1, successful: 0, failed: 0, optedOut: 0, skipped: 0 },
      { contacted: 0, successful: 1, failed: 0, optedOut: 0, skipped: 0 },
    ]);
    expect(o.message).toEqual({ status: 'delivered', providerSid: true, errorCode: null });
    const rows = await db
      .select()
      .from(campaignTargets)
      .where(inArray(campaignTargets.campaignId, [t.campaignId]));
    expect(rows).toHaveLength(2);
  });

  it('writes no index when it moves a message: no index of messages reads a column a status callback sets', async () => {
    // A column an index reads (a key, an expression or a predicate) makes every change of it a non-HOT update, which
    // wrote all of the table's indexes, the full-text one included, twice a send (bench, 2026-12-07).
    const rows = await db.execute<{ name: string; definition: string }>(sql`
      select c.relname as name, pg_get_indexdef(i.indexrelid) as definition
      from pg_index i join pg_class c on c.oid = i.indexrelid
      where i.indrelid = 'messages'::regclass`);
    const reading = [...rows]
      .filter((r) => /\b(status|status_updated_at|error_code)\b/.test(r.definition))
      .map((r) => r.name);
    expect(rows.length).toBeGreaterThan(5);
    expect(reading).toEqual([]);
    // And room on each page for the new versions: HOT needs the new version on the old one's page.
    const [table] = await db.execute<{ options: string[] | null }>(
      sql`select reloptions as options from pg_class where oid = 'messages'::regclass`,
    );
    expect(table?.options ?? []).toContain('fillfactor=80');
  });
});
