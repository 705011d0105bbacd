import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import type { TraceContext } from '../contract/types';
import { childSpan, newRootTrace } from '../domain/trace';
import { currentTrace, runWithTrace } from './context';
import { traceFromHeaders, withTraceHeader } from './header';

/**
 * Client side (API, CLI, activities that start or signal workflows): every start, signal, signal-with-start and
 * update carries the caller's current trace as a child span, so the workflow continues the same trace.
 */
export function traceClientInterceptor(): WorkflowClientInterceptor {
  const inject = <T extends { headers: Record<string, unknown> }>(input: T): T => {
    const trace = currentTrace();
    return trace ? { ...input, headers: withTraceHeader(input.headers as never, childSpan(trace)) } : input;
  };
  return {
    start: (input, next) => next(inject(input)),
    startWithDetails: (input, next) => next(inject(input)),
    signal: (input, next) => next(inject(input)),
    signalWithStart: (input, next) => next(inject(input)),
    startUpdate: (input, next) => next(inject(input)),
  };
}

/** What to do when an activity arrives without a trace (T4): a new root, and a warning event saying where. */
interface BrokenChainContext {
  place: string;
  /** Ids found on the activity's input, so reconstruction can still place the event by tenant and contact. */
  tenantId?: string;
  contactId?: string;
  conversationId?: string;
}
export type BrokenChainReporter = (context: BrokenChainContext, trace: TraceContext) => Promise<void>;

const idOf = (arg: unknown, key: string): string | undefined => {
  const value = arg && typeof arg === 'object' ? (arg as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' && /^[0-9a-f-]{36}$/.test(value) ? value : undefined;
};

/** Activity side: runs each activity inside its caller's trace (from the header), or a new root if it has none. */
export function traceActivityInterceptor(reportBroken: BrokenChainReporter): ActivityInterceptorsFactory {
  return (ctx) => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        let trace = traceFromHeaders(input.headers);
        if (!trace) {
          trace = newRootTrace();
          const arg = input.args[0];
          const context = {
            place: `activity ${ctx.info.activityType} of ${ctx.info.workflowExecution?.workflowId ?? 'no workflow'}`,
            tenantId: idOf(arg, 'tenantId'),
            contactId: idOf(arg, 'contactId'),
            conversationId: idOf(arg, 'conversationId'),
          };
          await reportBroken(context, trace).catch(() => undefined);
        }
        return runWithTrace(trace, () => next(input));
      },
    };
    return { inbound };
  };
}
