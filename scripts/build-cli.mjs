#!/usr/bin/env node
// Compiles the CLI (src/cli/main.ts) to JavaScript in dist/cli, so `npx causeway …` does not compile TypeScript at
// each invocation: npm ci / npm install run it as the `prepare` step, and bin/causeway.js runs it again when a
// source the build was made from has changed since. One bundle per build (node_modules stay external), split so
// that each command's code is a chunk loaded only when that command runs.
// dist/cli/manifest.json names the current build and the mtime of every input; builds go to fresh directories and
// the manifest is replaced atomically, so concurrent CLI processes never see half a build.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = 'src/cli/main.ts';
export const DIST = path.join(ROOT, 'dist/cli');
export const MANIFEST = path.join(DIST, 'manifest.json');
const EXTERNAL = [
  '@temporalio/worker',
  '@temporalio/core-bridge',
  '@electric-sql/pglite',
  '@swc/core',
  'esbuild',
  'tsx',
];
const KEEP_OLD_BUILDS_MS = 10 * 60_000;

/**
 * Sources read files next to themselves through import.meta.url (the failure converter, the migrations, pages):
 * in the bundle each module's import.meta.url is rewritten to the URL of its source file, relative to the bundle.
 */
/**
 * @param {string} outdir
 * @returns {import('esbuild').Plugin}
 */
function sourceUrls(outdir) {
  return {
    name: 'source-import-meta',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const source = await fs.promises.readFile(args.path, 'utf8');
        if (!/import\.meta\.(url|dirname|filename)/.test(source)) return { contents: source, loader: 'ts' };
        const relative = JSON.stringify(path.relative(outdir, args.path).split(path.sep).join('/'));
        const url = `new URL(${relative}, import.meta.url).href`;
        const contents = source
          .replace(/import\.meta\.url/g, url)
          .replace(/import\.meta\.filename/g, `decodeURIComponent(new URL(${url}).pathname)`)
          .replace(/import\.meta\.dirname/g, `decodeURIComponent(new URL('.', ${url}).pathname).replace(/\\/$/, '')`);
        return { contents, loader: 'ts' };
      });
    },
  };
}

/**
 * Builds the CLI; returns the path of the entry module. Throws when esbuild is missing or the build fails.
 * @param {{ quiet?: boolean }} [options]
 */
export async function buildCli({ quiet = false } = {}) {
  const esbuild = await import('esbuild');
  fs.mkdirSync(DIST, { recursive: true });
  const outdir = fs.mkdtempSync(path.join(DIST, 'build-'));
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { main: ENTRY },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Dependencies are bundled too (resolving and compiling hundreds of small CommonJS files is most of the start-up
    // time), except those that load native code, WebAssembly or files of their own at run time.
    external: EXTERNAL,
    // CommonJS dependencies call require() (the data converter loads its converters by path).
    banner: {
      js: "import { createRequire as __cliCreateRequire } from 'node:module'; const require = __cliCreateRequire(import.meta.url);",
    },
    outdir,
    metafile: true,
    sourcemap: 'linked',
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: quiet ? 'silent' : 'warning',
    plugins: [sourceUrls(outdir)],
  });
  // Freshness is judged on the repository's own sources and the lock file (npm ci runs this build again anyway).
  const sources = Object.keys(result.metafile.inputs).filter((file) => !file.includes('node_modules/'));
  const inputs = Object.fromEntries(
    [...sources, 'package-lock.json']
      .filter((file) => fs.existsSync(path.join(ROOT, file)))
      .map((file) => [file, fs.statSync(path.join(ROOT, file)).mtimeMs]),
  );
  const manifest = { entry: path.relative(DIST, path.join(outdir, 'main.js')), builtAt: Date.now(), inputs };
  const temporary = `${MANIFEST}.${process.pid}`;
  fs.writeFileSync(temporary, JSON.stringify(manifest));
  fs.renameSync(temporary, MANIFEST);
  // Older builds a CLI process started a while ago may still load chunks from are kept for a while.
  for (const dir of fs.readdirSync(DIST)) {
    const full = path.join(DIST, dir);
    if (!dir.startsWith('build-') || full === outdir) continue;
    if (Date.now() - fs.statSync(full).mtimeMs > KEEP_OLD_BUILDS_MS) fs.rmSync(full, { recursive: true, force: true });
  }
  return path.join(outdir, 'main.js');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (!fs.existsSync(path.join(ROOT, ENTRY))) {
    // `npm ci` in a Docker layer that has no sources yet: the Dockerfile builds after copying them.
    console.log(`build-cli: ${ENTRY} not there yet, nothing to build`);
  } else {
    const entry = await buildCli();
    console.log(`build-cli: ${path.relative(ROOT, entry)}`);
  }
}
