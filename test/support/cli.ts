import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { childProcessEnv } from '../../src/config/env';
import { TEST_SECRETS_KEYS } from '../setup-secrets';
import type { Harness } from './harness';

const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `causeway <args>` as an operator runs it (bin/causeway.js), against the harness's database and Temporal, with the
 * test file's secrets key (the import opens sealed keys) and a data dir of its own; `input` is its stdin. It does
 * not throw: a failure is its exit code and output.
 */
export function runCli(h: Harness, args: string[], input = ''): Promise<CliResult> {
  const child = run(process.execPath, ['bin/causeway.js', ...args], {
    env: childProcessEnv({
      DATABASE_URL: h.env.DATABASE_URL!,
      TEMPORAL_ADDRESS: h.env.TEMPORAL_ADDRESS!,
      TEMPORAL_TASK_QUEUE: h.env.TEMPORAL_TASK_QUEUE,
      LOG_LEVEL: 'silent',
      CAUSEWAY_SECRETS_KEYS: TEST_SECRETS_KEYS,
      CAUSEWAY_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'cw-cli-')),
    }),
  });
  child.child.stdin!.end(input);
  return child.then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: CliResult) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}
