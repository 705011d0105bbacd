import { uuid4 } from '@temporalio/workflow';
import type { TraceContext } from '../contract';
import { childTrace, rootTrace, type TraceIds } from '../contract/trace';

// New trace and span ids inside workflow code, from the workflow's deterministic uuid4(): one call per id, so
// replays draw the same ones. Stateless (uuid4 finds the running workflow when called), so the module can be
// shared by every run (worker.ts WORKFLOW_BUNDLE_OPTIONS.preloadModules); the run's own trace state lives in
// interceptors.ts, which is loaded per run.
const hex = () => uuid4().replace(/-/g, '');
const ids: TraceIds = { traceId: hex, spanId: () => hex().slice(0, 16) };

export const childOf = (parent: TraceContext): TraceContext => childTrace(ids, parent);

/** A timer firing or a run without a trace is an entry point of its own (seed 001): a new root trace. */
export const newRootTrace = (): TraceContext => rootTrace(ids);
