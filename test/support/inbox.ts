import { inboxDrainScheduleId } from '../../src/contract';
import { eventually, type Harness } from './harness';

/**
 * The harness's worker reaches Temporal directly, so its inbox-drain Schedule (every minute) may drain a parked row
 * between the webhook and the test's read of it. A test that asserts the row is still pending pauses the Schedule
 * and waits out a run already in flight; the drain the test drives itself is the one under test.
 */
export async function withDrainSchedulePaused<T>(h: Harness, body: () => Promise<T>): Promise<T> {
  const handle = h.client.schedule.getHandle(inboxDrainScheduleId(h.env.TEMPORAL_TASK_QUEUE));
  await handle.pause('test: a parked row must stay pending until the test drains it');
  try {
    await eventually(
      async () => (await handle.describe()).info.runningActions.length === 0,
      10_000,
      'a schedule run already in flight to finish',
    );
    return await body();
  } finally {
    await handle.unpause();
  }
}
