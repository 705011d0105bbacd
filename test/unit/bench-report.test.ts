import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README, renderReport, RESULTS, withSection, type BenchReport } from '../../bench/report';

// Issue 25 E: the bench figures in bench/README.md are generated from the committed JSON, never typed by hand.
describe('bench/README.md figures', () => {
  const report = JSON.parse(fs.readFileSync(RESULTS, 'utf8')) as BenchReport;

  it('match bench/results.json (npm run bench:report rewrites the section)', () => {
    const readme = fs.readFileSync(README, 'utf8');
    expect(withSection(readme, report)).toBe(readme);
  });

  it('name the run: commit, groups, load; one row per figure with its bar and verdict', () => {
    const text = renderReport(report);
    expect(text).toContain(`commit ${report.commit!.slice(0, 7)}`);
    const names = new Set(report.figures.map((f) => f.name));
    const rows = text.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| figure'));
    expect(rows).toHaveLength(names.size);
    const edited = { ...report, figures: report.figures.map((f, i) => (i === 0 ? { ...f, value: f.value + 1 } : f)) };
    expect(renderReport(edited)).not.toBe(text); // a changed figure changes the section
  });
});
