import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Committed replay fixtures (test/fixtures/histories, replayed by test/e2e/replay.test.ts) are what workflows
// running in production look like: append-only. Never edited, never re-recorded, never deleted; a new one is added
// beside them under a new name and listed (`sha256sum <new>.json >> SHA256SUMS`). docs/changing-workflows.md.
const ROOT = path.resolve(import.meta.dirname, '../..');
const DIR = 'test/fixtures/histories';
const SUMS = `${DIR}/SHA256SUMS`;

type Pin = { hash: string; name: string };

function parseSums(text: string): Pin[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
      if (!match) throw new Error(`SHA256SUMS: malformed line ${JSON.stringify(line)}`);
      return { hash: match[1]!, name: match[2]! };
    });
}

const git = (...args: string[]) =>
  execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

/** Every committed version of SHA256SUMS, oldest first; empty outside a git checkout. */
function committedSums(): { commit: string; pins: Pin[] }[] {
  let commits: string[];
  try {
    // The main line only (--first-parent): a fixture is pinned once it lands, i.e. from the commit (or merge) that
    // brought it to this branch. A branch that re-recorded its own new fixture before merging broke nothing.
    commits = git('log', '--first-parent', '--topo-order', '--reverse', '--format=%H', '--', SUMS)
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
  return commits.map((commit) => ({ commit, pins: parseSums(git('show', `${commit}:${SUMS}`)) }));
}

const current = parseSums(fs.readFileSync(path.join(ROOT, SUMS), 'utf8'));
const sha256 = (name: string) =>
  createHash('sha256')
    .update(fs.readFileSync(path.join(ROOT, DIR, name)))
    .digest('hex');

describe('committed replay fixtures are append-only (SHA256SUMS)', () => {
  it('every listed fixture exists with its listed hash', () => {
    expect(current.length).toBeGreaterThan(0);
    for (const { hash, name } of current) {
      expect(fs.existsSync(path.join(ROOT, DIR, name)), `${name} was deleted`).toBe(true);
      expect(sha256(name), `${name} was modified`).toBe(hash);
    }
  });

  it('every fixture is listed, once', () => {
    const files = fs.readdirSync(path.join(ROOT, DIR)).filter((f) => f.endsWith('.json'));
    const listed = current.map((p) => p.name);
    expect(
      files.filter((f) => !listed.includes(f)),
      'fixtures missing from SHA256SUMS',
    ).toEqual([]);
    expect(
      listed.filter((name, i) => listed.indexOf(name) !== i),
      'listed twice',
    ).toEqual([]);
  });

  // A fixture deleted together with its line, or re-recorded together with its hash, passes the two checks above:
  // the committed history of SHA256SUMS catches both. A name once listed stays listed with the hash it was first
  // committed with. (A shallow clone checks the versions it has.)
  it('SHA256SUMS only grows: no name committed earlier is dropped or re-hashed', () => {
    const now = new Map(current.map((p) => [p.name, p.hash]));
    const first = new Map<string, { hash: string; commit: string }>();
    for (const { commit, pins } of committedSums()) {
      for (const { name, hash } of pins) if (!first.has(name)) first.set(name, { hash, commit });
    }
    const problems = [...first].flatMap(([name, { hash, commit }]) =>
      !now.has(name)
        ? [`${name}: listed since ${commit.slice(0, 10)}, now dropped`]
        : now.get(name) !== hash
          ? [`${name}: hash changed since ${commit.slice(0, 10)}`]
          : [],
    );
    expect(problems).toEqual([]);
  });
});
