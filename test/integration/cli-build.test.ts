import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The compiled CLI (scripts/build-cli.mjs, npm ci's prepare step): it builds, runs, and every file a bundled module
// reads beside its source (import.meta.url, rewritten by the build) is where the bundle looks for it.
const ROOT = path.resolve(import.meta.dirname, '../..');

describe('compiled CLI', () => {
  it('builds into dist/cli, runs, and resolves the files its sources read beside themselves', () => {
    const out = execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: ROOT, encoding: 'utf8' });
    const entry = path.join(ROOT, /build-cli: (\S+)/.exec(out)![1]!);
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'dist/cli/manifest.json'), 'utf8'));
    expect(path.join(ROOT, 'dist/cli', manifest.entry)).toBe(entry);
    expect(Object.keys(manifest.inputs)).toContain('src/cli/main.ts');

    const help = execFileSync(process.execPath, [entry, 'db', '--help'], { cwd: ROOT, encoding: 'utf8' });
    expect(help).toContain('migrate');

    const dir = path.dirname(entry);
    const referenced = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.js'))
      .flatMap((f) => [
        ...fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/new URL\("([^"]+)",\s*import\.meta\.url\)/g),
      ])
      .map((m) => path.resolve(dir, m[1]!));
    expect(referenced.map((f) => path.relative(ROOT, f))).toContain('src/temporal/data-converter.ts');
    expect(referenced.filter((f) => !fs.existsSync(f))).toEqual([]);
  });
});
