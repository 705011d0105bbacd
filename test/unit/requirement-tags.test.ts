import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Comments cite requirements by tag; docs/requirements.md defines each one, so a reader of this repository can
// resolve them. This test finds every tag in the comments of the code and fails on one the page does not define.
const ROOT = path.resolve(import.meta.dirname, '../..');
const SELF = path.relative(ROOT, import.meta.filename);
const SCANNED = ['src', 'test', 'bench', 'scripts', 'worker.ts', 'drizzle.config.ts', 'vitest.config.ts'];
const CODE = /\.(ts|mts|js|mjs)$/;

function files(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (!fs.existsSync(full)) return [];
  if (fs.statSync(full).isFile()) return CODE.test(entry) ? [entry] : [];
  return fs
    .readdirSync(full, { withFileTypes: true })
    .filter((d) => d.name !== 'node_modules' && d.name !== 'fixtures')
    .flatMap((d) => files(path.join(entry, d.name)));
}

/** The comment text of a source file: `//` to the end of the line and `/* … *\/` blocks (strings are not parsed). */
function comments(source: string): string[] {
  return [...source.matchAll(/\/\*[\s\S]*?\*\/|(?<![:'"`\\])\/\/.*$/gm)].map((m) => m[0].replace(/\s+/g, ' '));
}

/** Requirement tags in a piece of comment text, in the spelling docs/requirements.md defines them. */
function tagsIn(text: string): string[] {
  const tags: string[] = [];
  // Feature catalogue: I (inbound), T (tracing), C (campaigns), O (operations); numbered from 1 (C0 is a
  // Unicode category, T00 the hour of a date).
  for (const m of text.matchAll(/\b([ITCO])([1-9][0-9]?)\b/g)) tags.push(`${m[1]}${m[2]}`);
  for (const m of text.matchAll(/\bDESIGN §(\d+)/g)) tags.push(`DESIGN §${m[1]}`);
  for (const m of text.matchAll(/\b[Ss]eed (\d{3})(?: (§\d+[A-Z]?)|,? (risk \d+))?/g))
    tags.push(`seed ${m[1]}${m[2] ? ` ${m[2]}` : m[3] ? ` ${m[3]}` : ''}`);
  return tags;
}

const defined = new Set(
  [...fs.readFileSync(path.join(ROOT, 'docs/requirements.md'), 'utf8').matchAll(/^- \*\*(.+?)\*\*/gm)].map(
    (m) => m[1]!,
  ),
);

describe('requirement tags in comments resolve in docs/requirements.md', () => {
  it('finds the tag forms', () => {
    expect(tagsIn('// I12, C1–C6 (seed 001 §4B; Seed 003, risk 3; seed 004 thread rotation; DESIGN §6)')).toEqual([
      'I12',
      'C1',
      'C6',
      'DESIGN §6',
      'seed 001 §4B',
      'seed 003 risk 3',
      'seed 004',
    ]);
    expect(tagsIn('control characters C0, DEL; `${day}T00:00:00Z`; V8; MM0/Media/ME1')).toEqual([]);
  });

  it('every tag a comment cites is defined', () => {
    const undefinedTags = new Map<string, string>();
    const sources = SCANNED.flatMap(files).filter((f) => f !== SELF);
    expect(sources.length).toBeGreaterThan(50);
    let cited = 0;
    for (const file of sources) {
      for (const comment of comments(fs.readFileSync(path.join(ROOT, file), 'utf8'))) {
        for (const tag of tagsIn(comment)) {
          cited++;
          if (!defined.has(tag) && !undefinedTags.has(tag)) undefinedTags.set(tag, file);
        }
      }
    }
    expect(cited).toBeGreaterThan(50);
    expect(Object.fromEntries(undefinedTags), 'tags cited in comments but not in docs/requirements.md').toEqual({});
  });
});
