// Trace helpers for workflow code; the implementation lives with the interceptors that propagate it.
export { childOf, currentWorkflowTrace, newRootTrace, withTrace } from './interceptors';
