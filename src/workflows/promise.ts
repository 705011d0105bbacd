import { patched, sleep } from '@temporalio/workflow';
import type { PromiseInput } from '../contract';
import { db } from './activity-options';
import { iso, reasonOnly, showDetails, summary } from './user-metadata';

/**
 * `promise:<id>` (C4): a reminder shortly before the due date and a payment check after it, both durable
 * timers: a worker restart or a deploy in between changes nothing. The outcome is stored by the activities.
 * Issue 21: a message the outbound policy holds waits in a durable timer until the gate's instant, then asks again.
 */
export async function promiseWorkflow(input: PromiseInput): Promise<{ status: string }> {
  // Histories recorded before the gate never see a held step: the loops below only run in new executions.
  const policy = patched('policy-promise-hold');
  // Issue 21 F: the Web UI's current details and timer summaries (user metadata: no new command, no patch).
  let lastDecision: string | null = null;
  const details = (next: string) =>
    showDetails('Promise', [
      ['promise', input.promiseId],
      ['due', iso(input.dueAt)],
      ['reminder', input.reminderAt === null ? 'none' : iso(input.reminderAt)],
      ['payment check', iso(input.checkAt)],
      ['next', next],
      ['last policy decision', lastDecision],
    ]);
  const holdUntil = async (until: number, reason: string | undefined) => {
    const why = `held until ${iso(until)}${reason ? ` — ${reasonOnly(reason)}` : ''}`;
    lastDecision = why;
    details(`send again when the hold ends (${why})`);
    if (until > Date.now()) await sleep(until - Date.now(), summary(why));
  };
  if (input.reminderAt !== null) {
    if (input.reminderAt > Date.now()) {
      details(`reminder at ${iso(input.reminderAt)}`);
      await sleep(input.reminderAt - Date.now(), summary(`reminder before the due date at ${iso(input.reminderAt)}`));
    }
    let reminded = await db.remindPromise({ promiseId: input.promiseId, trace: input.trace });
    while (policy && reminded.heldUntil !== undefined) {
      await holdUntil(reminded.heldUntil, reminded.heldReason);
      reminded = reminded.heldKey
        ? await db.notifyPromise({ promiseId: input.promiseId, key: reminded.heldKey, trace: input.trace })
        : await db.remindPromise({ promiseId: input.promiseId, trace: input.trace });
    }
    if (reminded.status !== 'pending') return { status: reminded.status };
  }
  if (input.checkAt > Date.now()) {
    details(`payment check at ${iso(input.checkAt)}`);
    await sleep(input.checkAt - Date.now(), summary(`payment check after the due date at ${iso(input.checkAt)}`));
  }
  let checked = await db.checkPromise({ promiseId: input.promiseId, trace: input.trace });
  while (policy && checked.heldUntil !== undefined && checked.heldKey) {
    await holdUntil(checked.heldUntil, checked.heldReason);
    checked = await db.notifyPromise({ promiseId: input.promiseId, key: checked.heldKey, trace: input.trace });
  }
  return { status: checked.status };
}
