import { ApplicationFailure } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { FailureType } from '../contract';
import { classifyDbError, isDatabaseError } from '../db/core/errors';

/**
 * Turns every database error an activity throws into a typed ApplicationFailure: DatabaseRejected
 * (non-retryable: the same statement fails again, so the workflow records an outcome instead of retrying
 * forever) or DatabaseUnavailable (retried). The message carries the SQLSTATE only and there is no cause:
 * drizzle's error text lists the bound parameters (message bodies, phone numbers), and a failure's message and
 * cause are written into the workflow history.
 */
export function dbFailureActivityInterceptor(): ActivityInterceptorsFactory {
  return () => ({
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (error) {
          if (error instanceof ApplicationFailure) throw error;
          // An error of the database layer without a recognized code (a driver-side rejection such as
          // UNDEFINED_VALUE) is still stripped: it fails the same way again, so it is not retried either.
          const db =
            classifyDbError(error) ??
            (isDatabaseError(error) ? { kind: 'permanent' as const, code: 'unclassified' } : null);
          if (!db) throw error;
          throw ApplicationFailure.create({
            type: db.kind === 'permanent' ? FailureType.DatabaseRejected : FailureType.DatabaseUnavailable,
            message: `database ${db.kind === 'permanent' ? 'rejected the statement' : 'unavailable'} (${db.code})`,
            nonRetryable: db.kind === 'permanent',
            details: [{ code: db.code }],
          });
        }
      },
    },
  });
}
