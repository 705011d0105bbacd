import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { childProcessEnv } from '../config/env';

/** Pinned Temporal CLI (dev server + Web UI). v1.5.1 (server 1.29) is the newest whose go.mod allows `go install`. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const MODULE = 'github.com/temporalio/cli/cmd/temporal';

export interface CliLookup {
  explicitPath?: string | undefined;
  pathEnv: string;
  cacheDir: string;
}

export type CliSource = 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'built';

const isExecutable = (file: string) => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

export const cachedCliPath = (cacheDir: string) => path.join(cacheDir, `temporal-cli-${TEMPORAL_CLI_VERSION}`, 'temporal');

/** Finds a Temporal CLI without building: explicit path, then PATH, then the cache. */
export function findTemporalCli(lookup: CliLookup): { path: string; source: CliSource } | null {
  if (lookup.explicitPath) {
    if (!isExecutable(lookup.explicitPath)) throw new Error(`TEMPORAL_CLI_PATH=${lookup.explicitPath} is not an executable file`);
    return { path: lookup.explicitPath, source: 'TEMPORAL_CLI_PATH' };
  }
  for (const dir of lookup.pathEnv.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, 'temporal');
    if (isExecutable(candidate)) return { path: candidate, source: 'PATH' };
  }
  const cached = cachedCliPath(lookup.cacheDir);
  return isExecutable(cached) ? { path: cached, source: 'cache' } : null;
}

/**
 * Returns a usable Temporal CLI, building the pinned version from its Go module into the cache when none is
 * found (a cold build takes a few minutes; later runs reuse the binary). Progress goes to `progress`.
 */
export async function ensureTemporalCli(lookup: CliLookup, progress: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<{ path: string; source: CliSource }> {
  const found = findTemporalCli(lookup);
  if (found) return found;
  const target = cachedCliPath(lookup.cacheDir);
  const dir = path.dirname(target);
  const staging = `${dir}.build-${process.pid}`;
  fs.mkdirSync(staging, { recursive: true });
  progress(`temporal: no CLI found; building ${MODULE}@${TEMPORAL_CLI_VERSION} with Go into ${dir} (first run only, a few minutes)…`);
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('go', ['install', `${MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: childProcessEnv({ GOBIN: staging, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let downloads = 0;
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        if (line.startsWith('go: downloading')) {
          downloads += 1;
          if (downloads % 25 === 1) progress(`temporal: downloading modules (${downloads})…`);
        } else progress(`temporal: ${line}`);
      }
    };
    child.stdout.on('data', onLine);
    child.stderr.on('data', onLine);
    const tick = setInterval(() => progress(`temporal: still building (${Math.round((Date.now() - started) / 1000)} s)…`), 30_000);
    child.on('error', (error) => {
      clearInterval(tick);
      reject(new Error(`cannot run 'go' to build the Temporal CLI (install Go, put temporal on PATH, or set TEMPORAL_CLI_PATH): ${error.message}`, { cause: error }));
    });
    child.on('exit', (code) => {
      clearInterval(tick);
      if (code === 0) resolve();
      else reject(new Error(`go install ${MODULE}@${TEMPORAL_CLI_VERSION} exited with ${code}`));
    });
  });
  // Rename into place so a concurrent or interrupted build never leaves a half-written binary in the cache.
  fs.mkdirSync(dir, { recursive: true });
  fs.renameSync(path.join(staging, 'temporal'), target);
  fs.rmSync(staging, { recursive: true, force: true });
  progress(`temporal: built ${TEMPORAL_CLI_VERSION} in ${Math.round((Date.now() - started) / 1000)} s → ${target}`);
  return { path: target, source: 'built' };
}
