import { AsyncLocalStorage } from 'node:async_hooks';
import type { TraceContext } from '../contract/types';

// The trace of the work in progress in this Node process (an API request, a CLI command, an activity).
const storage = new AsyncLocalStorage<TraceContext>();

export function runWithTrace<T>(trace: TraceContext, fn: () => T): T {
  return storage.run(trace, fn);
}

export function currentTrace(): TraceContext | undefined {
  return storage.getStore();
}
