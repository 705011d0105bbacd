import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { checkImportGraph } from '../../src/dev/import-graph';

/**
 * The rules of test/unit/lint-boundaries.test.ts hold for the whole tree today (`npm run lint` checks the same in
 * CI). Here rather than in the unit project: linting every file takes tens of seconds on a busy machine.
 */
const root = path.resolve(import.meta.dirname, '../..');

describe('the tree obeys the lint boundaries', () => {
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: path.join(root, 'eslint.config.js'),
    overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
    ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports' || ruleId.startsWith('import-x/'),
  });

  it('no file outside src/db imports the database packages, none outside src/workflows imports workflow code, no value import circle', async () => {
    const results = await eslint.lintFiles(['src', 'bin', 'worker.ts', 'scripts']);
    const offenders = results
      .filter((r) => r.messages.length > 0)
      .map((r) => `${path.relative(root, r.filePath)}: ${r.messages.map((m) => m.message).join('; ')}`);
    expect(offenders).toEqual([]);
    expect(results.length).toBeGreaterThan(100);
  }, 120_000);

  it('the import graph of src/ has no circle (type imports included), no upward import, no file outside a layer', () => {
    const report = checkImportGraph(root);
    expect(report.cycles).toEqual([]);
    expect(report.upward).toEqual([]);
    expect(report.unplaced).toEqual([]);
    expect(report.files).toBeGreaterThan(150);
  });
});
