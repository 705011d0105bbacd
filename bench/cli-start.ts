// `npm run bench -- cli`: how long a CLI command takes from process start to its first network call, against
// `node -e 0` (process start to exit). The command is pointed at a TCP listener of this process that only
// accepts: the first accepted connection is the first network call; the process is killed then.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { childProcessEnv } from '../src/config/env';
import { quantile } from './drive';
import { figure } from './figures';

const ROOT = path.resolve(import.meta.dirname, '..');

function nodeStartMs(): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', () => resolve(performance.now() - t0)));
}

async function firstConnectionMs(args: string[]): Promise<number> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()));
  const port = (listener.address() as net.AddressInfo).port;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-bench-cli-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/causeway.js'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: childProcessEnv({
      DATABASE_URL: `postgres://bench@127.0.0.1:${port}/bench`,
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      CAUSEWAY_DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
    }),
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  try {
    return await new Promise<number>((resolve, reject) => {
      listener.once('connection', (socket) => {
        resolve(performance.now() - t0);
        socket.destroy();
      });
      child.once('exit', (code) =>
        reject(new Error(`causeway ${args.join(' ')} exited (${code}) before connecting: ${stderr}`)),
      );
    });
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)));
    listener.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchCli(print: (line: string) => void) {
  const runs = 5;
  const node: number[] = [];
  for (let i = 0; i < runs; i += 1) node.push(await nodeStartMs());
  const baseline = { name: '`node -e 0`', value: quantile(node, 0.5) };
  print(
    `CLI: process start → first network call (median of ${runs}; the command talks to a listener that only accepts)`,
  );
  for (const args of [
    ['tenant', 'list'],
    ['campaign', 'status', 'bench-none', '--tenant', 'bench-none'],
  ]) {
    const times: number[] = [];
    for (let i = 0; i < runs; i += 1) times.push(await firstConnectionMs(args));
    figure('cli', `causeway ${args.slice(0, 2).join(' ')} → first connection`, quantile(times, 0.5), 'ms', baseline, {
      of: 'delta',
      op: '<=',
      limit: 500,
    });
  }
  print('');
}
