import { describe, expect, it } from 'vitest';
import { ClusterUsageError, parseClusterOptions } from '../../src/local/cluster/options';

describe('npm run cluster options', () => {
  it('defaults: two APIs, two workers, the Web UI, the cluster', () => {
    expect(parseClusterOptions([])).toEqual({
      help: false,
      ensure: false,
      devServer: false,
      ui: true,
      uiWriteActions: false,
      workers: 2,
      apis: 2,
    });
  });

  it('reads every option the bench and CI pass', () => {
    expect(parseClusterOptions(['--no-ui', '--dev-server', '--workers', '1', '--apis', '3'])).toEqual({
      help: false,
      ensure: false,
      devServer: true,
      ui: false,
      uiWriteActions: false,
      workers: 1,
      apis: 3,
    });
    expect(parseClusterOptions(['--ensure']).ensure).toBe(true);
    expect(parseClusterOptions(['--ui-write-actions']).uiWriteActions).toBe(true);
    expect(parseClusterOptions(['--help']).help).toBe(true);
    expect(parseClusterOptions(['-h']).help).toBe(true);
  });

  it.each([[['--bogus']], [['--workers', '0']], [['--apis', '17']], [['--workers', 'two']], [['extra']]])(
    '%j is a usage error (it used to be ignored and the cluster started)',
    (argv) => {
      expect(() => parseClusterOptions(argv)).toThrow(ClusterUsageError);
    },
  );
});
