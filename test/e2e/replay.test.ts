import fs from 'node:fs';
import path from 'node:path';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createDataConverter } from '../../src/temporal/data-converter';
import { createLogger } from '../../src/logger';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { HISTORIES_DIR } from '../support/conversation';
import { sharedWorkflowBundle } from '../support/workflow-bundle';

// Recorded histories of real runs (npm run fixtures:record), replayed against today's workflow code: a change
// that would break the determinism of workflows already running in production fails here (O4).
// Fixtures whose runs only an old, removed workflow branch can replay (docs/changing-workflows.md, step 5) are
// listed in RETIRED: kept and pinned, no longer replayed.
const RETIRED_FILE = path.join(HISTORIES_DIR, 'RETIRED');
const retired = new Set(
  fs.existsSync(RETIRED_FILE)
    ? fs
        .readFileSync(RETIRED_FILE, 'utf8')
        .split('\n')
        .map((line) => line.replace(/#.*/, '').trim())
        .filter(Boolean)
    : [],
);
const fixtures = fs
  .readdirSync(HISTORIES_DIR)
  .filter((f) => f.endsWith('.json') && !retired.has(f))
  .sort();
const workflowBundle = sharedWorkflowBundle();
// The production data converter with an encryption key: the committed histories are plain (written before payload
// encryption), and must replay through the codec unchanged. Encrypted histories replay in payload-privacy.test.ts.
const dataConverter = createDataConverter([{ id: 'replay', key: randomBytes(32) }]);

beforeAll(() => {
  installTemporalRuntime(createLogger('error', { name: 'temporal-sdk' }), 'ERROR');
});

describe('replay of recorded workflow histories', () => {
  it('has fixtures for every workflow type', () => {
    const types = new Set(fixtures.map((f) => `${f.replace(/[-.].*$/, '')}Workflow`));
    expect([...types].sort()).toEqual([
      'campaignWorkflow',
      'conversationWorkflow',
      'erasureWorkflow',
      'inboundWorkflow',
      'inboxDrainWorkflow',
      'pacerWorkflow',
      'promiseWorkflow',
      'reconcileWorkflow',
      'redeliveryWorkflow',
      'retentionWorkflow',
      'statusCallbackWorkflow',
    ]);
  });

  // That the committed fixtures are unchanged, listed and never dropped: test/unit/fixture-histories.test.ts.

  it.each(fixtures)('%s replays without non-determinism', async (file) => {
    const history = proto.temporal.api.history.v1.History.fromObject(
      JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8')) as Record<string, unknown>,
    );
    await Worker.runReplayHistory({ workflowBundle, dataConverter }, history, `replay-${path.basename(file, '.json')}`);
  });
});
