import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { acquireSlotsUpdate, type PacerInput } from '../contract';
import { iso, summary } from './user-metadata';

export const pacerStateQuery = defineQuery<{ nextFreeAt: number; granted: number; requesters: Record<string, number> }>(
  'pacerState',
);

/** Slots start at least this far ahead: time for the caller to hand them to a send batch that is already waiting. */
const LEAD_MS = 250;
/** The pacer ends after this long without requests (once its last slot has passed); the next request restarts it. */
const IDLE_MS = 10 * 60_000;
/** Each grant is a few history events: rotate the run well before Temporal's limits. */
const MAX_GRANTS_PER_RUN = 1000;

/**
 * `sender:<tenant>:<sender hash>`: the rate limit of one sending number (C2), shared by every campaign that uses
 * it and by every worker. Callers ask for n slots through an update; slots are spaced by the caller's interval
 * and never overlap another caller's, so the sender's rate holds across campaigns. The state is one number
 * (the next free instant), so continue-as-new carries it for free.
 */
export async function pacerWorkflow(input: PacerInput): Promise<void> {
  let nextFreeAt = input.carried?.nextFreeAt ?? 0;
  let granted = input.carried?.granted ?? 0;
  let grantsThisRun = 0;
  const requesters: Record<string, number> = {};

  setHandler(
    acquireSlotsUpdate,
    ({ count, intervalMs, requester }) => {
      let at = Math.max(Date.now() + LEAD_MS, nextFreeAt);
      const slots: number[] = [];
      for (let i = 0; i < count; i++) {
        slots.push(Math.round(at));
        at += intervalMs;
      }
      nextFreeAt = at;
      granted += count;
      grantsThisRun += 1;
      requesters[requester] = (requesters[requester] ?? 0) + count;
      return { slots };
    },
    {
      validator: ({ count, intervalMs }) => {
        if (!Number.isInteger(count) || count < 1 || count > 10_000)
          throw new Error('count must be an integer from 1 to 10000');
        if (!(intervalMs >= 0.1 && intervalMs <= 3_600_000))
          throw new Error('intervalMs must be between 0.1 and 3600000');
      },
    },
  );
  setHandler(pacerStateQuery, () => ({ nextFreeAt, granted, requesters }));

  for (;;) {
    const seen = grantsThisRun;
    const active = await condition(
      () => grantsThisRun !== seen || grantsThisRun >= MAX_GRANTS_PER_RUN,
      IDLE_MS,
      // Issue 21 F: why the pacer is still running (user metadata: no new command).
      summary(
        `ends after ${IDLE_MS / 60_000} min without requests${nextFreeAt > Date.now() ? ` (slots booked until ${iso(nextFreeAt)})` : ''}`,
      ),
    );
    if (grantsThisRun >= MAX_GRANTS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof pacerWorkflow>({ tenantSlug: input.tenantSlug, carried: { nextFreeAt, granted } });
    }
    if (!active && Date.now() >= nextFreeAt) {
      await condition(allHandlersFinished);
      return;
    }
  }
}
