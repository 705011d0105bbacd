import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mergeRun, readResults, type BenchRun } from '../../bench/figures';
import { README, renderReport, RESULTS, withSection } from '../../bench/report';

// Issue 25 E: the bench figures in bench/README.md are generated from the committed JSON, never typed by hand.
describe('bench/README.md figures', () => {
  const report = readResults(RESULTS);

  it('match bench/results.json (npm run bench:report rewrites the section)', () => {
    const readme = fs.readFileSync(README, 'utf8');
    expect(withSection(readme, report)).toBe(readme);
  });

  it('name each run: commit, groups, load; one row per figure with its bar and verdict', () => {
    const text = renderReport(report);
    for (const run of report.runs) expect(text).toContain(`commit ${run.commit!.slice(0, 7)}`);
    const names = new Set(report.runs.flatMap((r) => r.figures.map((f) => f.name)));
    const rows = text.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| figure'));
    expect(rows).toHaveLength(names.size);
    const [first, ...rest] = report.runs;
    const edited = {
      runs: [
        { ...first!, figures: first!.figures.map((f, i) => (i === 0 ? { ...f, value: f.value + 1 } : f)) },
        ...rest,
      ],
    };
    expect(renderReport(edited)).not.toBe(text); // a changed figure changes the section
  });

  it('--merge replaces the figures of the groups a run measured and keeps the others with their own run', () => {
    const fig = (group: string, name: string, value: number) => ({
      group,
      name,
      unit: 'ms',
      value,
      baseline: null,
      ratio: null,
      bar: null,
      pass: null,
    });
    const run = (commit: string, groups: string[], figures: BenchRun['figures']): BenchRun => ({
      at: '2026-12-06T22:00:00.000Z',
      commit,
      dirty: false,
      node: 'v20',
      cores: 2,
      groups,
      figures,
    });
    const before = { runs: [run('aaaaaaa', ['inbound', 'idle'], [fig('inbound', 'p50', 1), fig('idle', 'rss', 9)])] };
    const merged = mergeRun(before, run('bbbbbbb', ['idle'], [fig('idle', 'rss', 5)]));
    expect(merged.runs.map((r) => [r.commit, r.groups, r.figures.map((f) => f.value)])).toEqual([
      ['aaaaaaa', ['inbound'], [1]],
      ['bbbbbbb', ['idle'], [5]],
    ]);
    // A run that measured everything again leaves nothing of the earlier one.
    expect(mergeRun(merged, run('ccccccc', ['inbound', 'idle'], [fig('inbound', 'p50', 2)])).runs).toHaveLength(1);
    const text = renderReport(merged);
    expect(text).toContain('Run 2026-12-06 22:00 UTC, commit aaaaaaa');
    expect(text).toContain('commit bbbbbbb');
  });
});
