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

/**
 * A binary built from a Go package at a pinned version into `<cache>/<cacheSubdir>/<name>`: the Temporal CLI
 * here, the Temporal server, its SQL tool and the Web UI server for `npm run cluster` (src/local/cluster/binaries.ts).
 */
export interface GoBinary {
  /** File name looked up on PATH and used in the cache, e.g. `temporal-server`. */
  name: string;
  /** The Go package, e.g. `go.temporal.io/server/cmd/server`. */
  goPackage: string;
  version: string;
  /** The cache subdirectory, named after the version so a pin change never reuses an old build. */
  cacheSubdir: string;
  /** The environment variable that names an explicit path (for messages), e.g. `TEMPORAL_SERVER_PATH`. */
  pathVariable: string;
}

export interface BinaryLookup extends CliLookup {
  /** Look on PATH too (off for binaries whose PATH name is too generic to trust). */
  searchPath?: boolean;
}

export type BinarySource = 'explicit' | 'PATH' | 'cache' | 'built';

const isExecutable = (file: string) => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

export const cachedBinaryPath = (binary: GoBinary, cacheDir: string) =>
  path.join(cacheDir, binary.cacheSubdir, binary.name);

/** Finds a binary without building: explicit path, then PATH, then the cache. */
export function findGoBinary(binary: GoBinary, lookup: BinaryLookup): { path: string; source: BinarySource } | null {
  if (lookup.explicitPath) {
    if (!isExecutable(lookup.explicitPath))
      throw new Error(`${binary.pathVariable}=${lookup.explicitPath} is not an executable file`);
    return { path: lookup.explicitPath, source: 'explicit' };
  }
  if (lookup.searchPath !== false) {
    for (const dir of lookup.pathEnv.split(path.delimiter).filter(Boolean)) {
      const candidate = path.join(dir, binary.name);
      if (isExecutable(candidate)) return { path: candidate, source: 'PATH' };
    }
  }
  const cached = cachedBinaryPath(binary, lookup.cacheDir);
  return isExecutable(cached) ? { path: cached, source: 'cache' } : null;
}

/**
 * Returns a usable binary, building the pinned version from its Go module into the cache when none is found (a
 * cold build takes minutes; later runs reuse the binary). Progress goes to `progress`.
 */
export async function ensureGoBinary(
  binary: GoBinary,
  lookup: BinaryLookup,
  progress: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<{ path: string; source: BinarySource }> {
  const found = findGoBinary(binary, lookup);
  if (found) return found;
  const target = cachedBinaryPath(binary, lookup.cacheDir);
  const dir = path.dirname(target);
  const staging = `${dir}.build-${process.pid}-${binary.name}`;
  fs.mkdirSync(staging, { recursive: true });
  const spec = `${binary.goPackage}@${binary.version}`;
  progress(`${binary.name}: not found; building ${spec} with Go into ${dir} (first run only, a few minutes)…`);
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('go', ['install', spec], {
      env: childProcessEnv({ GOBIN: staging, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let downloads = 0;
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        if (line.startsWith('go: downloading')) {
          downloads += 1;
          if (downloads % 25 === 1) progress(`${binary.name}: downloading modules (${downloads})…`);
        } else progress(`${binary.name}: ${line}`);
      }
    };
    child.stdout.on('data', onLine);
    child.stderr.on('data', onLine);
    const tick = setInterval(
      () => progress(`${binary.name}: still building (${Math.round((Date.now() - started) / 1000)} s)…`),
      30_000,
    );
    child.on('error', (error) => {
      clearInterval(tick);
      reject(
        new Error(
          `cannot run 'go' to build ${binary.name} (install Go, put ${binary.name} on PATH, or set ${binary.pathVariable}): ${error.message}`,
          { cause: error },
        ),
      );
    });
    child.on('exit', (code) => {
      clearInterval(tick);
      if (code === 0) resolve();
      else reject(new Error(`go install ${spec} exited with ${code}`));
    });
  });
  // `go install` names the file after the package's last path element (cmd/server → server).
  const built = path.join(staging, path.basename(binary.goPackage));
  // Rename into place so a concurrent or interrupted build never leaves a half-written binary in the cache.
  fs.mkdirSync(dir, { recursive: true });
  fs.renameSync(built, target);
  fs.rmSync(staging, { recursive: true, force: true });
  progress(`${binary.name}: built ${binary.version} in ${Math.round((Date.now() - started) / 1000)} s → ${target}`);
  return { path: target, source: 'built' };
}

export const TEMPORAL_CLI: GoBinary = {
  name: 'temporal',
  goPackage: MODULE,
  version: TEMPORAL_CLI_VERSION,
  cacheSubdir: `temporal-cli-${TEMPORAL_CLI_VERSION}`,
  pathVariable: 'TEMPORAL_CLI_PATH',
};

export const cachedCliPath = (cacheDir: string) => cachedBinaryPath(TEMPORAL_CLI, cacheDir);

const cliSource = (source: BinarySource): CliSource => (source === 'explicit' ? 'TEMPORAL_CLI_PATH' : source);

/** Finds a Temporal CLI without building: explicit path, then PATH, then the cache. */
export function findTemporalCli(lookup: CliLookup): { path: string; source: CliSource } | null {
  const found = findGoBinary(TEMPORAL_CLI, lookup);
  return found ? { path: found.path, source: cliSource(found.source) } : null;
}

/** Returns a usable Temporal CLI, building the pinned version into the cache when none is found. */
export async function ensureTemporalCli(
  lookup: CliLookup,
  progress?: (line: string) => void,
): Promise<{ path: string; source: CliSource }> {
  const found = await ensureGoBinary(TEMPORAL_CLI, lookup, progress);
  return { path: found.path, source: cliSource(found.source) };
}
