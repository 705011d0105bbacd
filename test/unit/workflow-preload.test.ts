import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { importEdges } from '../../src/dev/import-graph';
import { WORKFLOW_INTERCEPTORS_PATH, WORKFLOW_PRELOAD_MODULES } from '../../worker';

/**
 * worker.ts preloads the workflow modules once per worker (WORKFLOW_PRELOAD_MODULES): every run shares them, so a
 * module among them that kept state at module level would leak it from one run to the next (a conversation seeing
 * another's trace, a replay drawing different ids). The SDK freezes the preloaded modules' exports; what it cannot
 * freeze is a module's own `let` or a collection that is not exported. So: no file the preloaded modules import at
 * runtime declares a top-level `let`/`var` or a mutable collection, and none reaches interceptors.ts, whose trace
 * state is per run (the SDK loads it per run as an interceptor module).
 */
const root = path.resolve(import.meta.dirname, '../..');
const COLLECTIONS = new Set(['Map', 'Set', 'WeakMap', 'WeakSet', 'Array']);
const READONLY_TYPES = /^(ReadonlyMap|ReadonlySet|readonly )/;

/** Top-level declarations of `source` that would hold state shared by every run. */
function moduleStateHazards(file: string, source: string): string[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const hazards: string[] = [];
  for (const statement of sf.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    const list = statement.declarationList;
    const mutable = !(list.flags & ts.NodeFlags.Const);
    for (const d of list.declarations) {
      const name = d.name.getText(sf);
      if (mutable) {
        hazards.push(`${name}: top-level ${list.flags & ts.NodeFlags.Let ? 'let' : 'var'}`);
        continue;
      }
      const init = d.initializer;
      const collection =
        init &&
        ((ts.isNewExpression(init) && COLLECTIONS.has(init.expression.getText(sf))) ||
          (ts.isArrayLiteralExpression(init) && !ts.isAsExpression(init)));
      const readonly =
        (d.type && READONLY_TYPES.test(d.type.getText(sf))) ||
        // `[...] as const` is a readonly tuple: the compiler refuses any mutation.
        (init && ts.isAsExpression(init) && init.type.getText(sf) === 'const');
      if (collection && !readonly) hazards.push(`${name}: a mutable collection (type it Readonly…, or \`as const\`)`);
    }
  }
  return hazards;
}

/** The project files the preloaded modules load at runtime (type-only imports erased). */
function preloaded(): string[] {
  const { edges } = importEdges(root);
  const next = new Map<string, string[]>();
  for (const e of edges) if (!e.typeOnly) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const seen = new Set<string>(WORKFLOW_PRELOAD_MODULES);
  const stack = [...WORKFLOW_PRELOAD_MODULES];
  while (stack.length > 0)
    for (const to of next.get(stack.pop()!) ?? [])
      if (!seen.has(to)) {
        seen.add(to);
        stack.push(to);
      }
  return [...seen].sort();
}

describe('preloaded workflow modules (worker.ts WORKFLOW_PRELOAD_MODULES)', () => {
  it('reach every workflow module but interceptors.ts, and none of them keeps module-level state', () => {
    const files = preloaded().map((f) => path.relative(root, f));
    expect(files).toContain('src/workflows/conversation.ts');
    expect(files).toContain('src/workflows/inbound.ts');
    expect(files).not.toContain(path.relative(root, WORKFLOW_INTERCEPTORS_PATH));
    const hazards = files.flatMap((f) =>
      moduleStateHazards(f, fs.readFileSync(path.join(root, f), 'utf8')).map((h) => `${f}: ${h}`),
    );
    expect(hazards).toEqual([]);
  });

  it('the check sees a run-state `let`, a mutable Map or array, and lets constants through', () => {
    expect(moduleStateHazards('x.ts', 'let runTrace = null;\nvar n = 0;')).toEqual([
      'runTrace: top-level let',
      'n: top-level var',
    ]);
    expect(moduleStateHazards('x.ts', 'const seen = new Map<string, number>();\nconst ids = [];')).toEqual([
      'seen: a mutable collection (type it Readonly…, or `as const`)',
      'ids: a mutable collection (type it Readonly…, or `as const`)',
    ]);
    expect(
      moduleStateHazards(
        'x.ts',
        "const KIND: ReadonlyMap<string, string> = new Map();\nconst S = ['a'] as const;\nconst LIMIT = 5;\nexport const f = () => 1;",
      ),
    ).toEqual([]);
  });

  it('the interceptors module, which holds the run trace, would fail the check if it were preloaded', () => {
    const hazards = moduleStateHazards('i.ts', fs.readFileSync(WORKFLOW_INTERCEPTORS_PATH, 'utf8'));
    expect(hazards).toContain('runTrace: top-level let');
  });
});
