import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { checkImportGraph, LAYERS } from '../../src/dev/import-graph';

/**
 * The data layer's boundary (issue 14) as eslint.config.js enforces it: drizzle-orm, postgres and PGlite only in
 * src/db; tables from src/db/schema elsewhere as types only. Linted with the repository's own config, only the
 * no-restricted-imports rule, without type information (the rule needs none), so it runs in a second or two. That
 * the whole tree obeys the rules today is test/integration/lint-tree.test.ts (and `npm run lint`): linting every
 * file took most of `npm run test:unit`'s time.
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
    // Its query files sit in a folder per aggregate (src/db/outbound/outbox.ts): the same freedom one level down.
    expect(await restrictedImports('src/db/outbound/example.ts', drizzle)).toEqual([]);
    expect(
      await restrictedImports(
        'src/db/outbound/example.ts',
        `import { outbox } from '../schema';\nexport { outbox };\n`,
      ),
    ).toEqual([]);
  });

  it('embedded Postgres (src/local) may start PGlite, and still may not query it', async () => {
    const pglite = `import { PGlite } from '@electric-sql/pglite';\nexport { PGlite };\n`;
    expect(await restrictedImports('src/local/embedded-postgres.ts', pglite)).toEqual([]);
    expect(await restrictedImports('src/local/embedded-postgres.ts', drizzle)).toHaveLength(1);
    expect(await restrictedImports('src/local/temporal-cli.ts', pglite)).toHaveLength(1);
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
    const query = `import { findOutboxByKey } from '../db/outbound/outbox';\nexport { findOutboxByKey };\n`;
    const queries = await restrictedImports('src/workflows/example.ts', query);
    expect(queries).toHaveLength(1);
    expect(queries[0]).toContain('as types only');
    const typeOnly = `import type { OutboxRow } from '../db/outbound/outbox';\nexport type { OutboxRow };\n`;
    expect(await restrictedImports('src/workflows/example.ts', typeOnly)).toEqual([]);
  });
});

/**
 * The house's shape (issue 19, docs/architecture.md "Layers"): ESLint's import-x rules (value import circles, no
 * import of workflow code outside src/workflows) and src/dev/import-graph.ts (circles through type imports too, and
 * imports from a lower layer to a higher one), each shown to report a planted violation.
 */
describe('lint: the layers hold', () => {
  const importRules = new ESLint({
    cwd: root,
    overrideConfigFile: path.join(root, 'eslint.config.js'),
    overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
    ruleFilter: ({ ruleId }) => ruleId.startsWith('import-x/'),
  });
  const lint = async (filePath: string, code: string) => {
    const [result] = await importRules.lintText(code, { filePath: path.join(root, filePath) });
    return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
  };

  it('an import circle is reported (the contract barrel imports common.ts; common.ts importing it back closes one)', async () => {
    const messages = await lint(
      'src/contract/common.ts',
      `import { workflowType } from './index';\nexport const names = workflowType;\n`,
    );
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^import-x\/no-cycle: Dependency cycle/);
  });

  it.each([
    [
      'src/temporal/example.ts',
      `import type { inboundWorkflow } from '../workflows/inbound';\nexport type W = typeof inboundWorkflow;\n`,
    ],
    [
      'src/api/routes/example.ts',
      `import { campaignWorkflow } from '../../workflows';\nexport { campaignWorkflow };\n`,
    ],
    ['src/example.ts', `import { pacerWorkflow } from './workflows/pacer';\nexport { pacerWorkflow };\n`],
  ])('%s may not import workflow code', async (file, code) => {
    const messages = await lint(file, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('name a workflow by src/contract/workflow-types.ts');
  });

  it('workflow code imports its own folder; the worker names it by path', async () => {
    expect(
      await lint('src/workflows/example.ts', `import { db } from './activity-options';\nexport { db };\n`),
    ).toEqual([]);
    expect(
      await lint('worker.ts', `export const path = new URL('./src/workflows/index.ts', import.meta.url).pathname;\n`),
    ).toEqual([]);
  });

  it('the graph check reports a planted type-only circle, an upward import and a folder with no layer', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-graph-'));
    try {
      const write = (file: string, code: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), code);
      };
      write('src/contract/a.ts', `import type { B } from '../db/b';\nexport interface A { b?: B }\n`);
      write('src/db/b.ts', `import type { A } from '../contract/a';\nexport interface B { a?: A }\n`);
      write('src/gadgets/c.ts', `export const c = 1;\n`);
      const report = checkImportGraph(dir);
      expect(report.cycles).toEqual([['src/contract/a.ts', 'src/db/b.ts']]);
      expect(report.upward).toEqual([
        { from: 'src/contract/a.ts', to: 'src/db/b.ts', typeOnly: true, fromLayer: 'contract', toLayer: 'data' },
      ]);
      expect(report.unplaced).toEqual(['src/gadgets/c.ts']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('docs/architecture.md lists the layers in the order the check enforces', () => {
    const doc = fs.readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
    const table = doc.slice(doc.indexOf('## Layers'));
    const rows = [...table.matchAll(/^\| (\d+) \| ([^|]+?) \|/gm)].map((m) => [Number(m[1]), m[2]!.trim()]);
    expect(rows).toEqual(LAYERS.map((l, i) => [i + 1, l.layer]));
  });
});
