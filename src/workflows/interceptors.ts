import {
  AsyncLocalStorage,
  uuid4,
  type ActivityInput,
  type LocalActivityInput,
  type ContinueAsNewInput,
  type Next,
  type SignalInput,
  type StartChildWorkflowExecutionInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import type { TraceContext } from '../contract';
import { childTrace, rootTrace, type TraceIds } from '../contract/trace';
import { traceFromHeaders, withTraceHeader } from '../tracing/header';

// Workflow-side trace scope: set from the header of whatever started this code (run, signal, update) and
// narrowed by withTrace(); every activity, child and continue-as-new carries a child span of it in its header.
const scope = new AsyncLocalStorage<TraceContext>();
let runTrace: TraceContext | null = null;

// Ids from the workflow's deterministic uuid4(): one call per id, so replays draw the same ones.
const hex = () => uuid4().replace(/-/g, '');
const ids: TraceIds = { traceId: hex, spanId: () => hex().slice(0, 16) };

export const childOf = (parent: TraceContext): TraceContext => childTrace(ids, parent);

/** A timer firing or a run without a trace is an entry point of its own (seed 001): a new root trace. */
export const newRootTrace = (): TraceContext => rootTrace(ids);

/** The trace the workflow code is currently working in. */
export function currentWorkflowTrace(): TraceContext {
  return scope.getStore() ?? runTrace ?? (runTrace = newRootTrace());
}

/** Runs `fn` (and every activity it schedules) inside `trace`. */
export function withTrace<T>(trace: TraceContext, fn: () => Promise<T>): Promise<T> {
  return scope.run(trace, fn);
}

class TraceInbound implements WorkflowInboundCallsInterceptor {
  execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
    runTrace = traceFromHeaders(input.headers) ?? newRootTrace();
    return next(input);
  }

  handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>) {
    const trace = traceFromHeaders(input.headers);
    return trace ? scope.run(trace, () => next(input)) : next(input);
  }

  handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>) {
    const trace = traceFromHeaders(input.headers);
    return trace ? scope.run(trace, () => next(input)) : next(input);
  }
}

class TraceOutbound implements WorkflowOutboundCallsInterceptor {
  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
    return next({ ...input, headers: withTraceHeader(input.headers, childOf(currentWorkflowTrace())) });
  }

  scheduleLocalActivity(
    input: LocalActivityInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>,
  ) {
    return next({ ...input, headers: withTraceHeader(input.headers, childOf(currentWorkflowTrace())) });
  }

  startChildWorkflowExecution(
    input: StartChildWorkflowExecutionInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>,
  ) {
    return next({ ...input, headers: withTraceHeader(input.headers, childOf(currentWorkflowTrace())) });
  }

  continueAsNew(input: ContinueAsNewInput, next: Next<WorkflowOutboundCallsInterceptor, 'continueAsNew'>) {
    // The next run continues the trace of the run that rotated (a rotation is not an entry point).
    return next({ ...input, headers: withTraceHeader(input.headers, runTrace ?? currentWorkflowTrace()) });
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  runTrace = null;
  return { inbound: [new TraceInbound()], outbound: [new TraceOutbound()] };
};
