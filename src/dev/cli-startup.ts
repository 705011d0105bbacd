// How long a CLI command takes to reach its first network call: the time from spawning
// `node bin/causeway.js <args>` to the first TCP connection on a listener that stands in for both Postgres
// (DATABASE_URL) and Temporal (TEMPORAL_ADDRESS), next to the same figure for a bare `node` that connects, and the
// exit time of `node -e 0`. `npm run cli:startup [-- --runs 5 --json -- campaign status x]`; the bench imports
// measureCliStartup().
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { childProcessEnv } from '../config/env';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** ms from spawn to the first connection accepted on a fresh port (the child is killed then). */
async function toFirstConnection(args: (port: number) => string[], extra: Record<string, string>): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const child = spawn(process.execPath, args(port), {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: childProcessEnv({
      DATABASE_URL: `postgres://causeway@127.0.0.1:${port}/causeway`,
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      ...extra,
    }),
  });
  const started = performance.now();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    return await new Promise<number>((resolve, reject) => {
      server.once('connection', (socket) => {
        resolve(performance.now() - started);
        socket.destroy();
      });
      child.once('exit', (code) => reject(new Error(`exited (${code}) before connecting: ${stderr.slice(-500)}`)));
    });
  } finally {
    child.kill('SIGKILL');
    server.close();
  }
}

async function toExit(args: string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return performance.now() - started;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface CliStartup {
  command: string;
  /** The CLI command to its first TCP connection (median, ms). */
  cliToFirstConnectionMs: number;
  /** `node -e "net.connect(port)"` to its connection (median, ms): the baseline. */
  bareNodeToFirstConnectionMs: number;
  /** `node -e 0` to its exit (median, ms). */
  nodeExitMs: number;
  /** cli / bare node. */
  ratio: number;
}

export async function measureCliStartup(
  options: { runs?: number; command?: string[]; env?: Record<string, string> } = {},
): Promise<CliStartup> {
  const { runs = 5, command = ['campaign', 'status', 'x'], env = {} } = options;
  const cli: number[] = [];
  const bare: number[] = [];
  const nodeExit: number[] = [];
  for (let i = 0; i < runs; i++) {
    cli.push(await toFirstConnection(() => ['bin/causeway.js', ...command], env));
    bare.push(await toFirstConnection((port) => ['-e', `require('net').connect(${port}, '127.0.0.1')`], {}));
    nodeExit.push(await toExit(['-e', '0']));
  }
  const cliMs = median(cli);
  const bareMs = median(bare);
  return {
    command: command.join(' '),
    cliToFirstConnectionMs: cliMs,
    bareNodeToFirstConnectionMs: bareMs,
    nodeExitMs: median(nodeExit),
    ratio: cliMs / bareMs,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  const dash = argv.indexOf('--');
  const runsAt = argv.indexOf('--runs');
  const result = await measureCliStartup({
    runs: runsAt >= 0 ? Number(argv[runsAt + 1]) : 5,
    ...(dash >= 0 ? { command: argv.slice(dash + 1) } : {}),
  });
  if (argv.includes('--json')) console.log(JSON.stringify(result));
  else
    console.log(
      `causeway ${result.command}: first connection after ${result.cliToFirstConnectionMs.toFixed(0)} ms ` +
        `(bare node ${result.bareNodeToFirstConnectionMs.toFixed(0)} ms, ${result.ratio.toFixed(2)}×; ` +
        `node -e 0 exits in ${result.nodeExitMs.toFixed(0)} ms; goal ≤ 500 ms)`,
    );
}
