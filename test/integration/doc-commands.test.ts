import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/context';
import { COMMANDS } from '../../src/cli/commands';
import { childProcessEnv } from '../../src/config/env';

/**
 * The README's and the docs' commands still work as written (issue 19 C). Those that need no network run here as
 * a reader types them (`npx causeway --help`, `npm run cluster -- --help`); every `causeway …` command and
 * `npm run …` script they name must exist. The commands that need a running service are run by the tests of that
 * service: the cluster section's blocks by test/cluster/cluster.test.ts, the compose commands' service names by
 * test/integration/compose.test.ts.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const PAGES = [
  'README.md',
  'bench/README.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Inline code and fenced blocks of a Markdown page: where commands are written. */
function codeOf(markdown: string): string[] {
  const fenced = [...markdown.matchAll(/^```[a-z]*\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
  const prose = markdown.replace(/^```[a-z]*\n[\s\S]*?^```/gm, '');
  const inline = [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
  return [...fenced, ...inline];
}

const run = (command: string, args: string[]) =>
  spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: 90_000, env: childProcessEnv({}) });

/** The CLI's command tree, registered as src/cli/main.ts does (no command runs: the context is never built). */
async function cliTree(): Promise<Command> {
  const program = new Command('causeway');
  const ctx = (): CliContext => {
    throw new Error('no command runs in this test');
  };
  const registers = new Set(await Promise.all(Object.values(COMMANDS).map((load) => load())));
  for (const register of registers) register(program, ctx);
  return program;
}

describe('the commands in README.md and docs/', () => {
  const pages = PAGES.map((page) => ({ page, code: codeOf(fs.readFileSync(path.join(ROOT, page), 'utf8')) }));

  it('every `causeway <command> [<subcommand>]` they name exists in the CLI', async () => {
    const program = await cliTree();
    const missing: string[] = [];
    let checked = 0;
    for (const { page, code } of pages) {
      for (const snippet of code) {
        // `causeway campaign start|pause|resume`: each alternative is a subcommand.
        for (const m of snippet.matchAll(/\bcauseway(?:\.js)? ([a-z][a-z-]*)(?: ([a-z][a-z|-]*))?/g)) {
          const top = program.commands.find((c) => c.name() === m[1]);
          checked++;
          if (!top) {
            missing.push(`${page}: causeway ${m[1]}`);
            continue;
          }
          if (top.commands.length === 0 || !m[2]) continue;
          for (const sub of m[2].split('|').filter(Boolean))
            if (!top.commands.some((c) => c.name() === sub)) missing.push(`${page}: causeway ${m[1]} ${sub}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it('every `npm run <script>` they name is a script of package.json', () => {
    const scripts = Object.keys(
      (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
        .scripts,
    );
    const named = pages.flatMap(({ page, code }) =>
      code.flatMap((snippet) => [...snippet.matchAll(/\bnpm run (?:--silent )?([\w:-]+)/g)].map((m) => [page, m[1]!])),
    );
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter(([, script]) => !scripts.includes(script!))).toEqual([]);
  });

  it('`npx causeway --help` lists the commands', () => {
    const result = run('npx', ['causeway', '--help']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Usage: causeway /);
    for (const command of ['campaign', 'tenant', 'simulate', 'reconcile']) expect(result.stdout).toContain(command);
  }, 120_000);

  it('`npm run cluster -- --help` prints the options and starts nothing; an unknown option is an error', () => {
    const help = run('npm', ['run', '--silent', 'cluster', '--', '--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run cluster -- \[options\]/);
    for (const option of ['--workers', '--apis', '--no-ui', '--dev-server', '--ensure'])
      expect(help.stdout).toContain(option);
    expect(help.stderr).not.toContain('"level"'); // no log line: nothing was started

    const wrong = run('npm', ['run', '--silent', 'cluster', '--', '--worker', '3']);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain("Unknown option '--worker'");
  }, 180_000);
});
