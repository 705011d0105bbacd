import { sleep } from '@temporalio/workflow';
import type { PromiseInput } from '../contract';
import { db } from './activity-options';

/**
 * `promise:<id>` (C4): a reminder shortly before the due date and a payment check after it, both durable
 * timers: a worker restart or a deploy in between changes nothing. The outcome is stored by the activities.
 */
export async function promiseWorkflow(input: PromiseInput): Promise<{ status: string }> {
  if (input.reminderAt !== null) {
    if (input.reminderAt > Date.now()) await sleep(input.reminderAt - Date.now());
    const reminded = await db.remindPromise({ promiseId: input.promiseId, trace: input.trace });
    if (reminded.status !== 'pending') return reminded;
  }
  if (input.checkAt > Date.now()) await sleep(input.checkAt - Date.now());
  return db.checkPromise({ promiseId: input.promiseId, trace: input.trace });
}
