#!/usr/bin/env node
// @ts-check
// Applies Causeway's guard for postgres.js's null-socket crash (porsager/postgres#1154, #1208; unfixed in 3.4.9):
// closed() nulls `socket` and cancels the pending setImmediate without resetting it, so (a) a write buffered
// afterwards (a transaction's ROLLBACK on the dead connection) runs nextWrite() on a null socket and throws from
// a timer, killing the process, (b) a stale timer handle or chunk survives into the next connection, and (c) after
// a close with an error, the query state survives too. The fix settles the queries with CONNECTION_CLOSED
// (catchable; Temporal retries the activity) and starts each new connection with clean write and query state.
//
// Run by the root package's `postinstall` (npm runs the root's own scripts even when dependency scripts are
// off). Idempotent: an already patched file is left alone. Anything else (another postgres version, a file
// that matches neither hash) fails the install loudly: review the patch before bumping the pin.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const PINNED_VERSION = '3.4.9';

const GUARD = `  function nextWrite(fn) {
    if (!socket) {
      // causeway patch (porsager/postgres#1154, #1208): the socket closed after this write was buffered.
      // Settle the waiting queries with CONNECTION_CLOSED instead of throwing from a setImmediate.
      nextWriteTimer !== null && clearImmediate(nextWriteTimer)
      chunk = nextWriteTimer = null
      error(Errors.connection('CONNECTION_CLOSED', options))
      return false
    }
    const x = socket.write(chunk, fn)`;

/** @type {{ before: string, after: string }[]} Each edit replaces exactly one occurrence; the sha256 values pin the file before and after. */
const EDITS = [
  { before: '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)', after: GUARD },
  // terminate(): a cancelled immediate must not stay in nextWriteTimer (later writes would never be flushed).
  {
    before: '    clearImmediate(nextWriteTimer)\n    if (socket) {',
    after: '    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null // causeway patch\n    if (socket) {',
  },
  // closed(): same, and the dead socket's unsent bytes must not be prepended to the next connection's startup.
  {
    before: "    clearImmediate(nextWriteTimer)\n    socket.removeListener('data', data)",
    after:
      "    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null // causeway patch\n    socket.removeListener('data', data)",
  },
  // closed(): with hadError the 'error' event already rejected what was in flight, but a query written after it
  // (the transaction's ROLLBACK) stayed in `sent`, and `query`/`errorResponse` stayed set: on the next connection
  // that ghost waited forever (the pooled connection was lost) or the old backend's 57P01 failed the next query.
  {
    before:
      "    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n",
    after:
      "    if (query || sent.length) // causeway patch: also after an error, and start the next connection clean\n      error(Errors.connection('CONNECTION_CLOSED', options, socket))\n    query = results = errorResponse = null\n",
  },
  // fetchArrayTypes(): called without await from ReadyForQuery; a session killed during the type query rejected
  // it unhandled, and Node exits on an unhandled rejection. The failure already reaches `initial` (errored()
  // rejects it, or closed() reconnects with it), so here it only has to be caught.
  {
    before: '    `], [], execute)\n    types.forEach(({ oid, typarray }) => addArrayType(oid, typarray))',
    after:
      '    `], [], execute).catch(() => null) // causeway patch: the error reaches `initial`; never unhandled\n    if (!types)\n      return\n    types.forEach(({ oid, typarray }) => addArrayType(oid, typarray))',
  },
];

export const TARGETS = [
  {
    file: 'src/connection.js',
    original: 'ee3a218d9aa6a6f2887c1a19da50009335fe84c11a5431d5cab72d6bc528632f',
    patched: '9f95de561584339e6d71c93bf83e93071a64f2014881806502d9cd3ddc9b060d',
  },
  {
    file: 'cjs/src/connection.js',
    original: 'ce6d375809baad79963ef9b3773e6ac757bcf6da2362d4d85482bb14c2c751be',
    patched: '97e4518c0ce5a2377a4fb6942340c5c268d5147aef7a2201c3ac34f21ca0e1b4',
  },
];

/** @param {string} text */
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** @param {string} message @returns {never} */
function fail(message) {
  console.error(`patch-postgres: ${message}`);
  process.exit(1);
}

/** @param {string} text @returns {string | null} */
export function applyEdits(text) {
  let out = text;
  for (const edit of EDITS) {
    const at = out.indexOf(edit.before);
    if (at === -1 || out.indexOf(edit.before, at + 1) !== -1) return null;
    out = out.slice(0, at) + edit.after + out.slice(at + edit.before.length);
  }
  return out;
}

/** Patches the postgres package in `dir` (default: the one this project resolves). Returns what it did per file. */
/** @param {string} dir @returns {string[]} */
export function patchPostgres(dir) {
  /** @type {unknown} */
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const pkg = /** @type {{ version?: unknown }} */ (manifest);
  if (pkg.version !== PINNED_VERSION)
    fail(
      `postgres ${String(pkg.version)} installed, the patch is for ${PINNED_VERSION}: review scripts/patch-postgres.mjs before changing the pin`,
    );
  // Check every file before writing any, so a mismatch never leaves the package half patched.
  const plan = TARGETS.map((target) => {
    const file = path.join(dir, target.file);
    const text = readFileSync(file, 'utf8');
    const hash = sha256(text);
    if (hash === target.patched) return { target, file, out: null };
    if (hash !== target.original)
      fail(`${file} matches neither postgres ${PINNED_VERSION} nor the patched file (sha256 ${hash}): not patching`);
    const out = applyEdits(text);
    if (out === null || sha256(out) !== target.patched)
      fail(`${file}: the edits did not produce the expected file (sha256 ${out === null ? 'n/a' : sha256(out)})`);
    return { target, file, out };
  });
  const done = [];
  for (const { target, file, out } of plan) {
    if (out !== null) writeFileSync(file, out);
    done.push(`${target.file}: ${out === null ? 'already patched' : 'patched'}`);
  }
  return done;
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname;
if (invokedDirectly) {
  // postgres' exports map hides package.json; its main entry is <dir>/cjs/src/index.js.
  const dir =
    process.argv[2] ?? path.resolve(path.dirname(createRequire(import.meta.url).resolve('postgres')), '../..');
  for (const line of patchPostgres(dir)) console.log(`patch-postgres: ${line}`);
}
