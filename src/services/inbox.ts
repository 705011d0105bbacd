import type { InboundInput } from '../contract';
import type { Database } from '../db/core/client';
import { describeDatabaseError, isDatabaseUnavailable } from '../db/core/errors';
import { drainInbox, drainRedeliveries, type DrainResult, type HandOver } from '../db/ingress/inbox';
import { startInboundWorkflow } from '../temporal/start-inbound';
import { startRedelivery } from '../temporal/start-redelivery';
import type { OperatorContext } from './context';

export interface InboxDrainer {
  /** One full drain now (all pending rows of this task queue, batch by batch). */
  drainNow(): Promise<DrainResult>;
  /**
   * Starts the retry loop if it is not running: drains, and while Temporal stays unavailable tries again with
   * capped backoff, until nothing is pending. Called by the webhook right after it parked a message.
   */
  kick(): void;
  stop(): Promise<void>;
}

export interface InboxDrainerOptions {
  /** Backoff between attempts while Temporal is unavailable: starts at minDelayMs, doubles, capped at maxDelayMs. */
  minDelayMs?: number;
  maxDelayMs?: number;
  startDeadlineMs?: number;
}

/**
 * The inbox drain as run in a process (the API after parking a row, the worker at start, the schedule's activity).
 * The cap is a few seconds, not minutes: a customer whose message was parked is answered within seconds of
 * Temporal's return, and a pending row costs one indexed query per attempt.
 */
export function createInboxDrainer(
  ctx: Pick<OperatorContext, 'db' | 'temporal' | 'log'>,
  options: InboxDrainerOptions = {},
): InboxDrainer {
  const { db, log } = ctx;
  const { client, taskQueue } = ctx.temporal;
  const minDelay = options.minDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 5000;
  const handOver = (input: InboundInput) =>
    startInboundWorkflow(client, taskQueue, input, { deadlineMs: options.startDeadlineMs ?? 5000 });
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  let wake: (() => void) | null = null;

  async function drainNow(): Promise<DrainResult> {
    const result = await drainInboxFully(db, taskQueue, handOver);
    // Follow-up sends recorded while Temporal was away (issue 24 C) ride the same loop and the same Schedule.
    if (!result.unavailable) {
      const r = await drainRedeliveries(db, (redelivery) =>
        startRedelivery(client, taskQueue, redelivery, {
          deadlineMs: options.startDeadlineMs ?? 5000,
        }),
      );
      result.drained += r.drained;
      result.started += r.drained;
      result.failed += r.failed;
      result.unavailable ||= r.unavailable;
      result.more ||= r.more;
    }
    if (result.drained > 0 || result.failed > 0) {
      log.info(
        {
          drained: result.drained,
          started: result.started,
          duplicates: result.duplicates,
          failed: result.failed,
          temporalUnavailable: result.unavailable,
        },
        'inbox drain',
      );
    }
    return result;
  }

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      timer.unref();
      wake = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
    });

  async function loop() {
    let delay = minDelay;
    while (!stopped) {
      again = false;
      let retry: boolean;
      try {
        const result = await drainNow();
        retry = result.unavailable || result.more;
        if (result.drained > 0) delay = minDelay;
      } catch (error) {
        // The database itself is unavailable: the rows are safe in it, try again later; anything else is a bug.
        retry = isDatabaseUnavailable(error);
        // Only the error code or name: a database error's message carries query parameters (phone numbers).
        log[retry ? 'warn' : 'error'](
          { err: retry ? describeDatabaseError(error) : (error as Error).name },
          'inbox drain failed',
        );
      }
      if (!retry && !again) return;
      if (stopped) return;
      if (retry) {
        await pause(delay);
        delay = Math.min(delay * 2, maxDelay);
      }
    }
  }

  return {
    drainNow,
    kick() {
      if (stopped) return;
      again = true;
      running ??= loop().finally(() => {
        running = null;
      });
    },
    async stop() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}

/** Drains batch after batch until nothing is pending (or Temporal refuses); each batch is one transaction. */
export async function drainInboxFully(
  db: Database,
  taskQueue: string,
  handOver: HandOver,
  options: { batchSize?: number; maxBatches?: number } = {},
): Promise<DrainResult> {
  const total: DrainResult = { drained: 0, started: 0, duplicates: 0, failed: 0, unavailable: false, more: false };
  for (let batch = 0; batch < (options.maxBatches ?? 50); batch++) {
    const r = await drainInbox(db, taskQueue, handOver, options);
    total.drained += r.drained;
    total.started += r.started;
    total.duplicates += r.duplicates;
    total.failed += r.failed;
    total.more = r.more;
    total.unavailable = r.unavailable;
    // A full batch of rows that all failed for their own reasons would come back again: stop there too.
    if (!r.more || r.unavailable || r.drained === 0) break;
  }
  return total;
}
