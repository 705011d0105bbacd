import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const script = path.resolve('scripts/patch-postgres.mjs');
const installed = path.resolve(path.dirname(createRequire(import.meta.url).resolve('postgres')), '../..');
const run = (dir: string) => {
  try {
    return { code: 0, out: execFileSync(process.execPath, [script, dir], { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (error) {
    const e = error as { status: number; stderr: string };
    return { code: e.status, out: e.stderr };
  }
};

describe('scripts/patch-postgres.mjs (the postinstall guard for porsager/postgres#1154)', () => {
  const dirs: string[] = [];
  const scratch = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pg-patch-'));
    dirs.push(dir);
    cpSync(installed, dir, { recursive: true });
    return dir;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('the installed postgres (both the ESM and the CJS copy) carries the guard, and a second run changes nothing', () => {
    for (const file of ['src/connection.js', 'cjs/src/connection.js']) {
      expect(readFileSync(path.join(installed, file), 'utf8')).toContain('causeway patch (porsager/postgres#1154');
    }
    const dir = scratch();
    const before = readFileSync(path.join(dir, 'src/connection.js'), 'utf8');
    expect(run(dir)).toEqual({ code: 0, out: expect.stringContaining('src/connection.js: already patched') });
    expect(readFileSync(path.join(dir, 'src/connection.js'), 'utf8')).toBe(before);
  });

  it('fails loudly, and writes nothing, when a target matches neither the pinned release nor the patched file', () => {
    const dir = scratch();
    const cjs = path.join(dir, 'cjs/src/connection.js');
    writeFileSync(cjs, readFileSync(cjs, 'utf8') + '\n// upstream changed\n');
    const esmBefore = readFileSync(path.join(dir, 'src/connection.js'), 'utf8');
    const result = run(dir);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/matches neither postgres 3\.4\.9 nor the patched file/);
    expect(readFileSync(path.join(dir, 'src/connection.js'), 'utf8')).toBe(esmBefore);
  });

  it('refuses another postgres version: the pin and the patch move together', () => {
    const dir = scratch();
    const pkg = path.join(dir, 'package.json');
    writeFileSync(pkg, readFileSync(pkg, 'utf8').replace('"version": "3.4.9"', '"version": "3.4.10"'));
    expect(run(dir)).toEqual({
      code: 1,
      out: expect.stringContaining('postgres 3.4.10 installed, the patch is for 3.4.9'),
    });
  });

  it('package.json pins postgres exactly and runs the patch on install', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      dependencies: Record<string, string>;
      scripts: Record<string, string>;
    };
    expect(pkg.dependencies.postgres).toBe('3.4.9');
    expect(pkg.scripts.postinstall).toBe('node scripts/patch-postgres.mjs');
  });
});
