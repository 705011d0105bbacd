#!/usr/bin/env node
// `npx causeway …`: runs the compiled CLI in dist/cli (built by npm ci's prepare step, scripts/build-cli.mjs),
// rebuilding it first when one of its sources changed since; without esbuild, or with CAUSEWAY_CLI_TSX=1, it
// loads the TypeScript through tsx's ESM loader instead (slower: it compiles at each invocation).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist/cli');

/** The entry of the current build when every input still has the mtime it was built from, else null. */
function freshBuild() {
  try {
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- written by scripts/build-cli.mjs
    const manifest = /** @type {{ entry: string, inputs: Record<string, number> }} */ (
      JSON.parse(fs.readFileSync(path.join(DIST, 'manifest.json'), 'utf8'))
    );
    for (const [file, mtimeMs] of Object.entries(manifest.inputs)) {
      if (fs.statSync(path.join(ROOT, file)).mtimeMs !== mtimeMs) return null;
    }
    const entry = path.join(DIST, manifest.entry);
    return fs.existsSync(entry) ? entry : null;
  } catch {
    return null;
  }
}

async function compiledEntry() {
  if (process.env.CAUSEWAY_CLI_TSX === '1') return null;
  const fresh = freshBuild();
  if (fresh) return fresh;
  try {
    const { buildCli } = await import('../scripts/build-cli.mjs');
    return await buildCli({ quiet: true });
  } catch {
    return null; // no esbuild (or no write access): run the sources
  }
}

const entry = await compiledEntry();
if (entry) {
  await import(pathToFileURL(entry).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
