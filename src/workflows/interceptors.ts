import {
  AsyncLocalStorage,
  type ActivityInput,
  type LocalActivityInput,
  type ContinueAsNewInput,
  type Next,
  type StartChildWorkflowExecutionInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import type { TraceContext } from '../contract';
import { traceFromHeaders, withTraceHeader } from '../tracing/header';
import { childOf, newRootTrace } from './trace-ids';

// Workflow-side trace scope: set from the header of whatever started this code (the run, an update); every
// activity, child and continue-as-new carries a child span of it in its header.
//
// Signals get no scope (issue 25): every signal handler here only records (a message into the queue, a campaign
// control), so nothing it runs could carry the scope; the loop that acts on it runs in the run's scope and takes
// the trace from the recorded value (CustomerMessage.trace). And the scope is an AsyncLocalStorage: once one has
// run, Node 20 calls its init hook for every promise of the workflow thread (the SDK's sandbox shares it), about
// a sixth of that thread's time in the throughput bench, for every conversation's signal. A signal handler that
// schedules work must therefore take the trace from its argument, as the conversation does. (The SDK's own scopes,
// for every update and every condition() with a timeout, turn the same hook on: docs/architecture.md.)
const scope = new AsyncLocalStorage<TraceContext>();
let runTrace: TraceContext | null = null;

/** The trace the workflow code is currently working in. */
export function currentWorkflowTrace(): TraceContext {
  return scope.getStore() ?? runTrace ?? (runTrace = newRootTrace());
}

class TraceInbound implements WorkflowInboundCallsInterceptor {
  execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
    runTrace = traceFromHeaders(input.headers) ?? newRootTrace();
    return next(input);
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
