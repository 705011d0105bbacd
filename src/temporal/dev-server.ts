import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';

export interface DevServer {
  address: string;
  uiUrl: string;
  /** false when an already-running server on the port was reused. */
  owned: boolean;
  stop(): Promise<void>;
}

async function reachable(address: string, timeoutMs: number): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

/**
 * `temporal server start-dev` with SQLite persistence under `dataDir` and the Web UI, for `npm start`.
 * Reuses a server already answering on the port (say, one left running by an earlier start).
 */
export async function startDevServer(options: {
  cliPath: string;
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  codecEndpoint?: string;
}): Promise<DevServer> {
  const address = `127.0.0.1:${options.port}`;
  const uiUrl = `http://localhost:${options.uiPort}`;
  if (await reachable(address, 1000)) return { address, uiUrl, owned: false, stop: () => Promise.resolve() };

  fs.mkdirSync(options.dataDir, { recursive: true });
  const logFile = fs.openSync(path.join(options.dataDir, 'temporal.log'), 'a');
  const child: ChildProcess = spawn(
    options.cliPath,
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(options.port),
      '--ui-port',
      String(options.uiPort),
      '--db-filename',
      path.join(options.dataDir, 'temporal.sqlite'),
      '--namespace',
      options.namespace,
      '--log-level',
      'warn',
      // The Web UI asks this endpoint to decode payloads (src/api/routes/codec.ts); the UI must send credentials.
      ...(options.codecEndpoint ? ['--ui-codec-endpoint', options.codecEndpoint] : []),
    ],
    { stdio: ['ignore', logFile, logFile] },
  );
  let exited = null as number | null;
  child.on('exit', (code) => {
    exited = code ?? -1;
  });

  const deadline = Date.now() + 60_000;
  while (!(await reachable(address, 1000))) {
    if (exited !== null)
      throw new Error(`temporal dev server exited with ${exited}; see ${path.join(options.dataDir, 'temporal.log')}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error('temporal dev server did not become ready within 60 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 250)); // readiness probe interval, not a synchronization sleep
  }
  return {
    address,
    uiUrl,
    owned: true,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
