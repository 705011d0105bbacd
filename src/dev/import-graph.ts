import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The layers of src/, bottom first (docs/architecture.md, "Layers", gives each one's reason). A file may import
 * its own layer and the ones below it, never one above. Top-level files of src/ are named by file, folders by name.
 */
export const LAYERS: { layer: string; members: string[] }[] = [
  { layer: 'contract', members: ['contract'] },
  { layer: 'domain', members: ['domain'] },
  {
    layer: 'process',
    members: ['config', 'secrets', 'logger.ts', 'fatal.ts', 'runtime-file.ts', 'shutdown.ts', 'supervisor.ts'],
  },
  { layer: 'data', members: ['db'] },
  { layer: 'adapters', members: ['integrations', 'tracing', 'observability'] },
  { layer: 'temporal', members: ['temporal'] },
  { layer: 'process start', members: ['boot.ts'] },
  { layer: 'local', members: ['local'] },
  { layer: 'services', members: ['services'] },
  { layer: 'activities', members: ['activities'] },
  { layer: 'workflows', members: ['workflows'] },
  { layer: 'entry points', members: ['api', 'cli'] },
  { layer: 'boot', members: ['start.ts', 'worker.ts', 'dev'] },
];

export interface ImportEdge {
  from: string;
  to: string;
  typeOnly: boolean;
}

export interface ImportGraphReport {
  files: number;
  /** Groups of files that import one another round (strongly connected, type-only imports included). */
  cycles: string[][];
  /** Imports from a lower layer to a higher one. */
  upward: (ImportEdge & { fromLayer: string; toLayer: string })[];
  /** Files under src/ that no layer names (a new folder must be given a place). */
  unplaced: string[];
}

function sourceFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(p);
    }
  };
  walk(path.join(root, 'src'));
  const worker = path.join(root, 'worker.ts');
  if (fs.existsSync(worker)) files.push(worker);
  return files;
}

const isTypeOnlyImport = (s: ts.ImportDeclaration) => {
  const clause = s.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return (
    !clause.name &&
    !!named &&
    ts.isNamedImports(named) &&
    named.elements.length > 0 &&
    named.elements.every((e) => e.isTypeOnly)
  );
};

const isTypeOnlyExport = (s: ts.ExportDeclaration) =>
  s.isTypeOnly ||
  (!!s.exportClause &&
    ts.isNamedExports(s.exportClause) &&
    s.exportClause.elements.length > 0 &&
    s.exportClause.elements.every((e) => e.isTypeOnly));

/** Relative imports between the project's own files: static, re-exports, dynamic import() and import('…') types. */
export function importEdges(root: string): { files: string[]; edges: ImportEdge[] } {
  const files = sourceFiles(root);
  const known = new Set(files);
  const options: ts.CompilerOptions = {
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    module: ts.ModuleKind.ESNext,
  };
  const edges: ImportEdge[] = [];
  for (const file of files) {
    const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true, kind);
    const add = (specifier: string, typeOnly: boolean) => {
      if (!specifier.startsWith('.')) return;
      const resolved = ts.resolveModuleName(specifier, file, options, ts.sys).resolvedModule?.resolvedFileName;
      if (resolved && known.has(resolved)) edges.push({ from: file, to: resolved, typeOnly });
    };
    const visit = (node: ts.Node) => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier))
        add(node.moduleSpecifier.text, isTypeOnlyImport(node));
      else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier))
        add(node.moduleSpecifier.text, isTypeOnlyExport(node));
      else if (
        ts.isCallExpression(node) &&
        node.expression.kind === ts.SyntaxKind.ImportKeyword &&
        node.arguments[0] &&
        ts.isStringLiteral(node.arguments[0])
      )
        add(node.arguments[0].text, false);
      else if (
        ts.isImportTypeNode(node) &&
        ts.isLiteralTypeNode(node.argument) &&
        ts.isStringLiteral(node.argument.literal)
      )
        add(node.argument.literal.text, true);
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { files, edges };
}

/** Tarjan's strongly connected components; only groups of two or more files are circles (no file imports itself). */
function circles(files: string[], edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) next.get(e.from)!.push(e.to);
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const f of files) if (!index.has(f)) connect(f);
  return found;
}

export function layerOf(root: string, file: string): number | null {
  const rel = path.relative(root, file).split(path.sep);
  const name = rel[0] === 'src' ? rel[1]! : rel[0]!;
  const i = LAYERS.findIndex((l) => l.members.includes(name));
  return i < 0 ? null : i;
}

export function checkImportGraph(root: string): ImportGraphReport {
  const { files, edges } = importEdges(root);
  const rel = (f: string) => path.relative(root, f);
  const upward: ImportGraphReport['upward'] = [];
  for (const e of edges) {
    const from = layerOf(root, e.from);
    const to = layerOf(root, e.to);
    if (from !== null && to !== null && to > from)
      upward.push({
        ...e,
        from: rel(e.from),
        to: rel(e.to),
        fromLayer: LAYERS[from]!.layer,
        toLayer: LAYERS[to]!.layer,
      });
  }
  return {
    files: files.length,
    cycles: circles(files, edges).map((group) => group.map(rel)),
    upward,
    unplaced: files.filter((f) => layerOf(root, f) === null).map(rel),
  };
}

// `npm run lint` runs this after ESLint: ESLint's import-x/no-cycle sees value imports only, this sees type imports too.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(process.argv[2] ?? '.');
  const report = checkImportGraph(root);
  console.log(
    `import graph of ${report.files} files: ${report.cycles.length} circles, ${report.upward.length} upward imports, ` +
      `${report.unplaced.length} files outside the layers`,
  );
  for (const group of report.cycles) console.log(`  circle: ${group.join(' ⇄ ')}`);
  for (const e of report.upward) console.log(`  upward: ${e.from} (${e.fromLayer}) imports ${e.to} (${e.toLayer})`);
  for (const f of report.unplaced)
    console.log(`  no layer: ${f} (add its folder to LAYERS in src/dev/import-graph.ts)`);
  if (report.cycles.length + report.upward.length + report.unplaced.length > 0) process.exitCode = 1;
}
