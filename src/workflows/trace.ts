// Trace helpers for workflow code. Stateless (trace-ids.ts): workflow modules must not import interceptors.ts,
// whose trace state is per run, so that they can be preloaded once for every run (worker.ts).
export { childOf, newRootTrace } from './trace-ids';
