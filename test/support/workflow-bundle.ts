import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundlePath } from '@temporalio/worker';
import { inject } from 'vitest';
import { WORKFLOW_BUNDLE_OPTIONS } from '../../worker';

/** webpack's progress and warnings would drown the test output; a failed bundle still throws. */
export const silentBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * The worker's workflow bundle (worker.ts WORKFLOW_BUNDLE_OPTIONS: its workflows, interceptors, failure converter
 * and preloaded modules), written to `dir`. The services project's global setup builds it once per run: webpack took 5–20 s per test file
 * when each file bundled its own.
 */
export async function writeWorkflowBundle(dir: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    ...WORKFLOW_BUNDLE_OPTIONS,
    logger: silentBundlerLogger,
  });
  const codePath = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(codePath, code);
  return codePath;
}

/** The run's bundle, for `createWorker({ workflowBundle })` and `Worker.runReplayHistory({ workflowBundle })`. */
export const sharedWorkflowBundle = (): WorkflowBundlePath => ({ codePath: inject('workflowBundlePath') });
