import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestProject } from 'vitest/node';
import { loadEnv } from '../src/config/env';
import { ALL_SEARCH_ATTRIBUTES } from '../src/contract/search-attributes';
import { startEmbeddedPostgres } from '../src/local/embedded-postgres';
import { runMigrations } from '../src/db/core/migrate';
import { ensureTemporalCli } from '../src/local/temporal-cli';
import { DEV_SERVER_TUNING, devServerTuningArgs } from '../src/local/temporal-dev-server';
import { writeWorkflowBundle } from './support/workflow-bundle';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    databaseEmbedded: boolean;
    /** The worker's workflow bundle, built once for the run (test/support/workflow-bundle.ts). */
    workflowBundlePath: string;
  }
}

/**
 * Once per run: a real Temporal dev server (the pinned CLI, built if missing) and a real Postgres database
 * made for this run (TEST_DATABASE_URL's server when reachable, else embedded PGlite), both torn down after.
 */
export default async function setup(project: TestProject) {
  // A fresh set of application logs per run: scripts/check-test-logs.mjs scans them after the tests.
  fs.rmSync(path.resolve(import.meta.dirname, '../test-results/logs'), { recursive: true, force: true });
  const env = loadEnv();
  // Bundled while the dev server and the database come up; every worker of the run loads this one file.
  const bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-bundle-'));
  const bundled = writeWorkflowBundle(bundleDir);
  bundled.catch(() => undefined); // awaited below; an early failure must not be an unhandled rejection meanwhile
  const cli = await ensureTemporalCli({
    explicitPath: env.TEMPORAL_CLI_PATH,
    pathEnv: env.PATH,
    cacheDir: env.CACHE_DIR,
  });
  const temporal = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli.path },
      ip: '127.0.0.1',
      searchAttributes: [...ALL_SEARCH_ATTRIBUTES],
      // npm start's dynamic config (src/local/temporal-dev-server.ts); the SQLite pragmas are for its file, not memory.
      extraArgs: ['--log-level', 'error', ...devServerTuningArgs({ ...DEV_SERVER_TUNING, sqlitePragmas: [] })],
    },
  });
  project.provide('temporalAddress', temporal.address);

  const teardown: (() => Promise<unknown>)[] = [() => temporal.teardown()];
  const admin = postgres(env.TEST_DATABASE_URL, { max: 1, onnotice: () => undefined, connect_timeout: 3 });
  let databaseUrl: string;
  let embedded = false;
  try {
    const name = `causeway_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
    await admin.unsafe(`create database ${name}`);
    const url = new URL(env.TEST_DATABASE_URL);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    teardown.push(async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    });
    console.log(`[test] Postgres: ${url.host} (database ${name}); Temporal CLI from ${cli.source}: ${cli.path}`);
  } catch (error) {
    await admin.end().catch(() => undefined);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-pglite-'));
    const pg = await startEmbeddedPostgres(dir);
    databaseUrl = pg.url;
    embedded = true;
    teardown.push(async () => {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    console.log(
      `[test] Postgres at ${env.TEST_DATABASE_URL} unreachable (${(error as Error).message}): using embedded PGlite; Temporal CLI from ${cli.source}`,
    );
  }
  await runMigrations(databaseUrl, { embedded });
  project.provide('databaseUrl', databaseUrl);
  project.provide('databaseEmbedded', embedded);
  project.provide('workflowBundlePath', await bundled);
  teardown.push(() => Promise.resolve(fs.rmSync(bundleDir, { recursive: true, force: true })));

  return async () => {
    for (const step of teardown.reverse()) await step();
  };
}
