// Every figure of the bench, with the baseline it is compared with (measured in the same run), its bar from
// DESIGN §6 and whether it passes: printed as it is measured, and written as JSON by `--json [file]`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

export interface Bar {
  /** `ratio`: value / baseline; `delta`: value − baseline (same unit as the value); `value`: the value itself. */
  of: 'ratio' | 'delta' | 'value';
  op: '<=' | '>=';
  limit: number;
}
export interface Figure {
  group: string;
  name: string;
  unit: string;
  value: number;
  baseline: { name: string; value: number } | null;
  ratio: number | null;
  bar: Bar | null;
  pass: boolean | null;
  note?: string;
}

const figures: Figure[] = [];
const num = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
const show = (v: number, unit: string) => `${num(v)}${unit === '×' ? '×' : ` ${unit}`}`;

/** A figure, printed. */
export function figure(...args: Parameters<typeof record>): Figure {
  const f = record(...args);
  console.log(describeFigure(f));
  return f;
}

/** A figure for the JSON only (its group prints it otherwise, e.g. as a table). */
export function record(
  group: string,
  name: string,
  value: number,
  unit: string,
  baseline?: { name: string; value: number } | null,
  bar?: Bar | null,
  note?: string,
): Figure {
  const ratio = baseline ? value / baseline.value : null;
  let pass: boolean | null = null;
  if (bar) {
    const measured = bar.of === 'ratio' ? ratio! : bar.of === 'delta' ? value - baseline!.value : value;
    pass = bar.op === '<=' ? measured <= bar.limit : measured >= bar.limit;
  }
  const f: Figure = { group, name, unit, value, baseline: baseline ?? null, ratio, bar: bar ?? null, pass, note };
  figures.push(f);
  return f;
}

/** One figure as a Markdown table row (bench/report.ts renders the committed JSON into bench/README.md). */
export function figureRow({ name, value, unit, baseline, ratio, bar, pass, note }: Figure): string {
  const limit = bar ? (bar.of === 'ratio' ? `${bar.limit}×` : show(bar.limit, unit)) : '';
  const barText = bar ? `${bar.op === '<=' ? '≤' : '≥'} ${limit}${bar.of === 'delta' ? ' over' : ''}` : '—';
  const cells = [
    name,
    show(value, unit),
    baseline ? `${baseline.name} ${show(baseline.value, unit)}` : '—',
    ratio === null ? '—' : `${ratio.toFixed(2)}×`,
    barText,
    pass === null ? '' : pass ? 'PASS' : 'MISS',
    note ?? '',
  ];
  return `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
}

function describeFigure({ name, value, unit, baseline, ratio, bar, pass, note }: Figure): string {
  const parts = [`  ${name}: ${show(value, unit)}`];
  if (baseline) parts.push(`vs ${baseline.name} ${show(baseline.value, unit)} = ${ratio!.toFixed(2)}×`);
  if (bar) {
    const limit = bar.of === 'ratio' ? `${bar.limit}×` : show(bar.limit, unit);
    const what = bar.of === 'delta' ? ' over the baseline' : '';
    parts.push(`(bar ${bar.op === '<=' ? '≤' : '≥'} ${limit}${what}) ${pass ? 'PASS' : 'MISS'}`);
  }
  if (note) parts.push(`[${note}]`);
  return parts.join('   ');
}

/** One run's figures as committed: what ran, where, and on what commit (bench/report.ts renders them). */
export interface BenchRun {
  at: string;
  commit: string | null;
  dirty: boolean;
  node: string;
  cores: number;
  /** 1, 5 and 15 minute load averages when the run ended: the ratios are what to read on a loaded machine. */
  loadAverage?: number[];
  groups: string[];
  figures: Figure[];
}

/** The JSON file: one run, or several runs of different groups merged (`--json FILE --merge`). */
export interface BenchResults {
  runs: BenchRun[];
}

/** Reads a results file; a file of one run (the format before runs could be merged) is read as one run. */
export function readResults(file: string): BenchResults {
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResults | BenchRun;
  return 'runs' in parsed ? parsed : { runs: [parsed] };
}

/**
 * Merging keeps the earlier runs' figures of the groups this run did not measure: a long group (idle at 10k
 * conversations, the 100k campaign) can be run on its own and its figures joined to the rest, each run keeping its
 * own commit and load. A group measured again replaces its figures; a run left with none is dropped.
 */
export function mergeRun(results: BenchResults, run: BenchRun): BenchResults {
  const measured = new Set(run.figures.map((f) => f.group).concat(run.groups));
  const kept = results.runs
    .map((r) => ({
      ...r,
      groups: r.groups.filter((g) => !measured.has(g)),
      figures: r.figures.filter((f) => !measured.has(f.group)),
    }))
    .filter((r) => r.figures.length > 0);
  return { runs: [...kept, run] };
}

export function writeJson(file: string, groups: string[], options: { merge?: boolean } = {}) {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  const run: BenchRun = {
    at: new Date().toISOString(),
    commit: git(['rev-parse', 'HEAD']),
    dirty: (git(['status', '--porcelain']) ?? '') !== '',
    node: process.version,
    cores: os.cpus().length,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    groups,
    figures,
  };
  const results = options.merge && fs.existsSync(file) ? mergeRun(readResults(file), run) : { runs: [run] };
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  const missed = figures.filter((f) => f.pass === false).length;
  console.log(
    `\n${figures.length} figures ${options.merge ? 'merged into' : 'written to'} ${file} (${missed} bar${missed === 1 ? '' : 's'} missed)`,
  );
}

export const allFigures = () => figures;
