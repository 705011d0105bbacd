import { patched, setCurrentDetails, sleep } from '@temporalio/workflow';
import type { PromiseInput } from '../contract';
import { db } from './activity-options';

/**
 * `promise:<id>` (C4): a reminder shortly before the due date and a payment check after it, both durable
 * timers: a worker restart or a deploy in between changes nothing. The outcome is stored by the activities.
 * Issue 21: a message the outbound policy holds waits in a durable timer until the gate's instant, then asks again.
 */
export async function promiseWorkflow(input: PromiseInput): Promise<{ status: string }> {
  // Histories recorded before the gate never see a held step: the loops below only run in new executions.
  const policy = patched('policy-promise-hold');
  if (input.reminderAt !== null) {
    if (input.reminderAt > Date.now()) await sleep(input.reminderAt - Date.now());
    let reminded = await db.remindPromise({ promiseId: input.promiseId, trace: input.trace });
    while (policy && reminded.heldUntil !== undefined) {
      await holdUntil(reminded.heldUntil, reminded.heldReason);
      reminded = reminded.heldKey
        ? await db.notifyPromise({ promiseId: input.promiseId, key: reminded.heldKey, trace: input.trace })
        : await db.remindPromise({ promiseId: input.promiseId, trace: input.trace });
    }
    if (reminded.status !== 'pending') return { status: reminded.status };
  }
  if (input.checkAt > Date.now()) await sleep(input.checkAt - Date.now());
  let checked = await db.checkPromise({ promiseId: input.promiseId, trace: input.trace });
  while (policy && checked.heldUntil !== undefined && checked.heldKey) {
    await holdUntil(checked.heldUntil, checked.heldReason);
    checked = await db.notifyPromise({ promiseId: input.promiseId, key: checked.heldKey, trace: input.trace });
  }
  return { status: checked.status };
}

/** Issue 21 F: the timer's summary in the Web UI says why it waits (the rule, never a phone number or text). */
async function holdUntil(until: number, reason: string | undefined) {
  setCurrentDetails(`held by the outbound policy until ${new Date(until).toISOString()}${reason ? `: ${reason}` : ''}`);
  if (until > Date.now())
    await sleep(until - Date.now(), {
      summary: `held until ${new Date(until).toISOString()}${reason ? ` — ${reason}` : ''}`.slice(0, 200),
    });
  setCurrentDetails('');
}
