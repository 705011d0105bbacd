import type { Client } from '@temporalio/client';
import type { Env } from '../config/env';
import type { Database } from '../db/client';
import type { Operator } from '../db/users';
import type { Logger } from '../logger';

export interface AppDeps {
  env: Pick<Env, 'PUBLIC_BASE_URL' | 'TEMPORAL_TASK_QUEUE'>;
  db: Database;
  temporal: Client;
  log: Logger;
  clock?: () => Date;
}

export type AppEnv = { Variables: { requestId: string; log: Logger; operator: Operator } };
