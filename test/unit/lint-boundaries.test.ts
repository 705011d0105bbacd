import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The data layer's boundary (issue 14) as eslint.config.js enforces it: drizzle-orm, postgres and PGlite only in
 * src/db; tables from src/db/schema elsewhere as types only. Linted with the repository's own config, only the
 * no-restricted-imports rule, without type information (the rule needs none), so it runs in a second or two.
 */
const root = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({
  cwd: root,
  overrideConfigFile: path.join(root, 'eslint.config.js'),
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
  ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
});

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, filePath) });
  return result!.messages.map((m) => {
    expect(m.ruleId, m.message).toBe('no-restricted-imports');
    return m.message;
  });
}

const drizzle = `import { sql } from 'drizzle-orm';\nexport const one = sql\`select 1\`;\n`;

describe('lint: only src/db talks to Postgres', () => {
  it.each([
    ['src/api/routes/example.ts', drizzle],
    ['src/cli/commands/example.ts', `import postgres from 'postgres';\nexport const sql = postgres();\n`],
    ['src/activities/example.ts', `import { drizzle } from 'drizzle-orm/postgres-js';\nexport { drizzle };\n`],
    ['worker.ts', `import { PGlite } from '@electric-sql/pglite';\nexport { PGlite };\n`],
    ['bin/example.js', `import postgres from 'postgres';\nexport default postgres;\n`],
    ['scripts/example.mjs', `import { eq } from 'drizzle-orm';\nexport { eq };\n`],
  ])('%s may not import the database packages', async (file, code) => {
    const messages = await restrictedImports(file, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('Only src/db talks to Postgres');
  });

  it('src/db may', async () => {
    expect(await restrictedImports('src/db/example.ts', drizzle)).toEqual([]);
    expect(
      await restrictedImports('src/db/example.ts', `import { tenants } from './schema';\nexport { tenants };\n`),
    ).toEqual([]);
  });

  it('outside src/db, tables are types only', async () => {
    const values = await restrictedImports(
      'src/api/routes/example.ts',
      `import { tenants } from '../../db/schema';\nexport { tenants };\n`,
    );
    expect(values).toHaveLength(1);
    expect(values[0]).toContain('Tables are for src/db');
    expect(
      await restrictedImports(
        'src/api/routes/example.ts',
        `import type { ErasureTargets } from '../../db/schema';\nexport type { ErasureTargets };\n`,
      ),
    ).toEqual([]);
  });

  it('tests and the bench keep direct access for their assertions and scratch databases', async () => {
    expect(await restrictedImports('test/e2e/example.test.ts', drizzle)).toEqual([]);
    expect(await restrictedImports('bench/example.ts', drizzle)).toEqual([]);
  });

  it('workflow code keeps its own, stricter block (the data-layer block does not replace it)', async () => {
    const builtins = await restrictedImports('src/workflows/example.ts', `import fs from 'node:fs';\nexport { fs };\n`);
    expect(builtins).toHaveLength(1);
    expect(builtins[0]).toContain('no Node built-ins');
    const database = await restrictedImports('src/workflows/example.ts', drizzle);
    expect(database).toHaveLength(1);
    expect(database[0]).toContain('must not touch I/O clients');
  });

  it('no file outside src/db imports them today', async () => {
    const results = await eslint.lintFiles(['src', 'bin', 'worker.ts', 'scripts']);
    const offenders = results
      .filter((r) => r.messages.length > 0)
      .map((r) => `${path.relative(root, r.filePath)}: ${r.messages.map((m) => m.message).join('; ')}`);
    expect(offenders).toEqual([]);
    expect(results.length).toBeGreaterThan(100);
  }, 120_000);
});
