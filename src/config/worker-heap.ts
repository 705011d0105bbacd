// Issue 25 B: the worker's memory bound. The sticky cache (WORKER_MAX_CACHED_WORKFLOWS) bounds the workflows kept
// live, but V8 sizes its heap from the machine (≈ 4 GB here) and collects lazily far below that, so RSS kept growing
// with every conversation opened past the cache. A V8 old-space limit sized from the cache makes the bound real.
//
// Why NODE_OPTIONS, computed by whoever starts the worker: V8's heap limit can only be set when the process starts,
// and NODE_OPTIONS reaches the worker through every launcher we have (`npm run worker` via tsx, so compose too;
// npm start's and the cluster's supervisor via fork; the bench) without the worker re-executing itself under another
// pid; an operator's own `--max-old-space-size` in NODE_OPTIONS is kept and wins.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { childProcessEnv, maxCachedWorkflowsOf } from './env';

/**
 * The limit is per isolate: the worker's main thread (activities, clients, the SDK) and the SDK's workflow thread
 * (every cached workflow) each get it; the main thread's live heap stays under 100 MB, the workflow thread is the one
 * that fills. Measured (bench `idle`, 2026-12-07, cache 500, `--trace-gc`): the workflow thread's live heap after a
 * full collection is ≈ 25 MB + 1.07 MB per cached workflow (560 MB), and V8 grows it to ≈ 1.6× that between full
 * collections. 1.5 MB per cached workflow and 256 MB for the main thread's own: 1,006 MB at the default 500, where
 * the worker's RSS settled at 1.2–1.3 GB with 2,500 conversations open (2.5 GB and growing without a limit). At
 * 768 MB (1.4× the live heap) full collections came every few seconds and took 0.3–1 s on a loaded machine.
 */
export const WORKER_HEAP_BASE_MB = 256;
export const WORKER_HEAP_MB_PER_CACHED_WORKFLOW = 1.5;

const FLAG = /(^|\s)--max[-_]old[-_]space[-_]size(=|\s|$)/;

/** Whether this process was started with an old-space limit (its command line or NODE_OPTIONS). */
export function hasHeapLimit(execArgv: string[], nodeOptions: string | undefined): boolean {
  return FLAG.test(execArgv.join(' ')) || FLAG.test(nodeOptions ?? '');
}

/** The old-space limit in MB for a worker with this workflow cache. */
export function workerHeapMb(maxCachedWorkflows: number): number {
  return Math.round(WORKER_HEAP_BASE_MB + WORKER_HEAP_MB_PER_CACHED_WORKFLOW * maxCachedWorkflows);
}

/** NODE_OPTIONS for a worker process: the caller's own, plus the limit unless they already set one. */
export function workerNodeOptions(nodeOptions: string | undefined, maxCachedWorkflows: number): string {
  const own = (nodeOptions ?? '').trim();
  if (FLAG.test(own)) return own;
  return [own, `--max-old-space-size=${workerHeapMb(maxCachedWorkflows)}`].filter(Boolean).join(' ');
}

/**
 * NODE_OPTIONS for a worker started with this environment. A WORKER_MAX_CACHED_WORKFLOWS the schema refuses adds
 * nothing: the worker then stops at start with the field's error.
 */
export function workerNodeOptionsFor(source: Record<string, string | undefined>): string {
  const cache = maxCachedWorkflowsOf(source);
  return cache === null ? (source.NODE_OPTIONS ?? '').trim() : workerNodeOptions(source.NODE_OPTIONS, cache);
}

// `npm run worker` prints the options here and starts the worker with them (package.json).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(workerNodeOptionsFor(childProcessEnv({})));
}
