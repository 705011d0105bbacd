import fs from 'node:fs';
import path from 'node:path';
import proto from '@temporalio/proto';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOW_INTERCEPTORS_PATH, WORKFLOWS_PATH } from '../../worker';
import { createLogger } from '../../src/logger';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { HISTORIES_DIR } from '../support/conversation';

// Recorded histories of real runs (npm run fixtures:record), replayed against today's workflow code: a change
// that would break the determinism of workflows already running in production fails here (O4).
const fixtures = fs.readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).sort();
let workflowBundle: Awaited<ReturnType<typeof bundleWorkflowCode>>;
const silent = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

beforeAll(async () => {
  installTemporalRuntime(createLogger('error', { name: 'temporal-sdk' }), 'ERROR');
  workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: [WORKFLOW_INTERCEPTORS_PATH], logger: silent });
});

describe('replay of recorded workflow histories', () => {
  it('has fixtures for every workflow type', () => {
    const types = new Set(fixtures.map((f) => `${f.replace(/[-.].*$/, '')}Workflow`));
    expect([...types].sort()).toEqual(['campaignWorkflow', 'conversationWorkflow', 'erasureWorkflow', 'inboundWorkflow', 'inboxDrainWorkflow', 'pacerWorkflow', 'promiseWorkflow', 'reconcileWorkflow', 'retentionWorkflow', 'statusCallbackWorkflow']);
  });

  it.each(fixtures)('%s replays without non-determinism', async (file) => {
    const history = proto.temporal.api.history.v1.History.fromObject(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8')) as Record<string, unknown>);
    await Worker.runReplayHistory({ workflowBundle }, history, `replay-${path.basename(file, '.json')}`);
  });
});
