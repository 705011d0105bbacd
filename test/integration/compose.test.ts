import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { childProcessEnv, ENV_VARIABLES, loadEnv } from '../../src/config/env';
import { parse as parseYaml } from 'yaml';

type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

const ROOT = path.resolve(import.meta.dirname, '../..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
/** The compose section moved to the operations page (issue 19); the configuration table stays in the README. */
const OPERATIONS_DOC = readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');

/** Schema variables a deploy never sets: local dev (embedded Postgres, dev server), tests, bench, the shell. */
const NOT_FOR_DEPLOY: Record<string, string> = {
  CAUSEWAY_DATA_DIR: 'embedded Postgres and dev server data; compose uses its Postgres service',
  TEMPORAL_UI_PORT: 'the dev server Web UI; compose runs temporalio/ui',
  TEMPORAL_CLI_PATH: 'the dev server binary',
  TEMPORAL_SERVER_PATH: 'npm run cluster: the server binary (compose runs temporalio/server)',
  TEMPORAL_SQL_TOOL_PATH: 'npm run cluster: the schema tool (compose runs temporalio/admin-tools)',
  TEMPORAL_UI_SERVER_PATH: 'npm run cluster: the Web UI server (compose runs temporalio/ui)',
  CAUSEWAY_EMBEDDED_DATABASE: 'set by npm start for its children',
  TEST_DATABASE_URL: 'tests',
  BENCH_CAMPAIGN_TARGETS: 'npm run bench',
  BENCH_CAMPAIGN_LIMITS: 'npm run bench',
  CAUSEWAY_RECORD_HISTORIES: 'tests',
  XDG_CACHE_HOME: 'the process environment (CLI cache)',
  PATH: 'the process environment',
  NODE_OPTIONS: "the process environment (a worker's heap limit is added to it)",
};
/** Passed with a value of compose's own instead of the schema's default, on purpose. */
const COMPOSE_VALUES = [
  'NODE_ENV',
  'DATABASE_URL',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_UI_URL',
  'WORKER_METRICS_PORT',
  'WORKER_SDK_METRICS_PORT',
  // Its default follows NODE_ENV: production (compose) refuses plaintext payloads.
  'CAUSEWAY_PLAINTEXT_PAYLOADS',
];
const CAUSEWAY_SERVICES = ['api', 'worker', 'migrate', 'causeway-setup'];

type Map = Record<string, YamlValue>;

/** Version directories (`v1.9`, `v1.18`) in version order. */
function readdirSorted(dir: string): string[] {
  const version = (name: string) => name.slice(1).split('.').map(Number);
  return readdirSync(dir)
    .filter((n) => /^v\d+\.\d+$/.test(n))
    .sort((a, b) => {
      const [x, y] = [version(a), version(b)];
      return x[0]! - y[0]! || x[1]! - y[1]!;
    });
}
const asMap = (v: YamlValue | undefined, what: string): Map => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what} is not a mapping`);
  return v;
};

const compose = asMap(
  parseYaml(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as YamlValue,
  'docker-compose.yml',
);
const services = asMap(compose.services, 'services');
const service = (name: string) => asMap(services[name], `service ${name}`);
const environment = (name: string) => asMap(service(name).environment, `${name}.environment`) as Record<string, string>;

/** What `${VAR:-default}` / `${VAR-default}` / `${VAR}` give with nothing set in the shell. */
const withNothingSet = (value: string) =>
  value.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_, _name: string, fallback?: string) => fallback ?? '');

/** The variable names of the README's configuration table, with each row's text. */
function readmeConfigTable(): Record<string, string> {
  const section = README.slice(
    README.indexOf('## Configuration'),
    README.indexOf('\n## ', README.indexOf('## Configuration') + 5),
  );
  const rows: Record<string, string> = {};
  for (const line of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const names = line.split('|')[1]!.match(/`([A-Z][A-Z0-9_]+)`/g) ?? [];
    for (const name of names) rows[name.slice(1, -1)] = line;
  }
  return rows;
}

/** Compose implementation on this machine: the docker CLI plugin (v2) or Debian's docker-compose (v1). */
function composeCommand(): string[] | null {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    const probe = spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { encoding: 'utf8' });
    if (probe.status === 0) return cmd;
  }
  return null;
}
const composeCli = composeCommand();
const runCompose = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(composeCli![0]!, [...composeCli!.slice(1), '-f', COMPOSE_FILE, ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    env: childProcessEnv(env),
  });

describe('docker-compose.yml', () => {
  it('passes the API and the workers every variable a deploy may set, and nothing the schema does not know', () => {
    const deployable = ENV_VARIABLES.filter((name) => !(name in NOT_FOR_DEPLOY));
    for (const name of CAUSEWAY_SERVICES) {
      const passed = Object.keys(environment(name));
      expect(
        passed.filter((v) => !ENV_VARIABLES.includes(v)),
        `${name}: variables the schema does not know`,
      ).toEqual([]);
      expect(
        deployable.filter((v) => !passed.includes(v)),
        `${name}: schema variables not passed`,
      ).toEqual([]);
      expect(
        passed.filter((v) => v in NOT_FOR_DEPLOY),
        `${name}: local-only variables passed`,
      ).toEqual([]);
    }
    // The exclusions are real schema variables (a renamed one would otherwise hide here).
    expect(Object.keys(NOT_FOR_DEPLOY).filter((v) => !ENV_VARIABLES.includes(v))).toEqual([]);
  });

  it('covers the README configuration table: every row is passed or marked "local only", and every passed variable is documented', () => {
    const rows = readmeConfigTable();
    const passed = Object.keys(environment('api'));
    expect(
      Object.keys(rows).filter((v) => !ENV_VARIABLES.includes(v)),
      'README rows the schema does not know',
    ).toEqual([]);
    for (const [name, row] of Object.entries(rows)) {
      if (passed.includes(name)) continue;
      expect(row, `${name} is neither passed nor marked local only`).toContain('local only; not in compose');
    }
    const undocumented = passed.filter((v) => !(v in rows) && v !== 'NODE_ENV');
    expect(undocumented, 'passed but not in the README table').toEqual([]);
  });

  it('unset, every variable has the schema default (compose-specific values aside)', () => {
    const fromCompose = Object.fromEntries(
      Object.entries(environment('worker')).map(([k, v]) => [k, withNothingSet(String(v))]),
    );
    const composed = loadEnv(fromCompose) as Record<string, unknown>;
    const defaults = loadEnv({}) as Record<string, unknown>;
    const differing = Object.keys(fromCompose).filter(
      (k) => !COMPOSE_VALUES.includes(k) && JSON.stringify(composed[k]) !== JSON.stringify(defaults[k]),
    );
    expect(differing).toEqual([]);
    expect(composed).toMatchObject({
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: 'temporal:7233',
      WORKER_METRICS_PORT: 9464,
      WORKER_SDK_METRICS_PORT: 9465,
      CAUSEWAY_PLAINTEXT_PAYLOADS: 'refuse',
    });
  });

  it('uses the current server image with one-shot schema and namespace steps, not auto-setup', () => {
    const images = Object.values(services).map((s) => (asMap(s, 'service').image as string | undefined) ?? '');
    expect(images.filter((i) => i.includes('auto-setup'))).toEqual([]);
    expect(service('temporal').image).toBe('temporalio/server:1.29.1');
    expect(service('temporal-schema').image as string).toMatch(/^temporalio\/admin-tools:1\.29\.1/);
    const script = (service('temporal-schema').command as string[]).join('\n');
    for (const db of ['temporal', 'temporal_visibility']) {
      expect(script).toContain(`--db ${db} create`);
      expect(script).toContain(`--db ${db} setup-schema -v 0.0`);
      expect(script).toMatch(
        new RegExp(
          `--db ${db} update-schema -d /etc/temporal/schema/postgresql/v12/${db === 'temporal' ? 'temporal' : 'visibility'}/versioned`,
        ),
      );
    }
    expect(environment('temporal')).toMatchObject({
      DB: 'postgres12',
      POSTGRES_SEEDS: 'postgres',
      DBNAME: 'temporal',
      VISIBILITY_DBNAME: 'temporal_visibility',
    });
    expect((service('temporal-namespace').command as string[]).join('\n')).toContain(
      'temporal operator namespace create',
    );
  });

  it('publishes neither the Temporal frontend nor any metrics port on the host', () => {
    const published = Object.entries(services).flatMap(([name, s]) =>
      ((asMap(s, name).ports ?? []) as string[]).map((p) => `${name} ${p}`),
    );
    expect(published.sort()).toEqual(['api 3000:3000', 'temporal-ui 127.0.0.1:8233:8080']);
  });

  it('issue 18 C: the Web UI is on the host loopback only and read-only unless an operator opts in', () => {
    const ports = service('temporal-ui').ports as string[];
    expect(ports.every((p) => p.startsWith('127.0.0.1:'))).toBe(true);
    const ui = environment('temporal-ui');
    expect(withNothingSet(ui.TEMPORAL_DISABLE_WRITE_ACTIONS!)).toBe('true');
    // The opt-in is explicit: only TEMPORAL_UI_DISABLE_WRITE_ACTIONS=false turns write actions on.
    expect(ui.TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('${TEMPORAL_UI_DISABLE_WRITE_ACTIONS:-true}');
    // The frontend it talks to stays unpublished, so the UI's read-only switch is not bypassed from the host.
    expect(service('temporal').ports).toBeUndefined();
  });

  it('orders start-up: api and worker wait for the migrations and the search attributes, which wait for the cluster', () => {
    const dependsOn = (name: string) =>
      asMap(service(name).depends_on, `${name}.depends_on`) as Record<string, { condition: string }>;
    for (const name of ['api', 'worker']) {
      expect(dependsOn(name)).toEqual({
        migrate: { condition: 'service_completed_successfully' },
        'causeway-setup': { condition: 'service_completed_successfully' },
      });
      expect(service(name).restart).toBe('unless-stopped');
    }
    expect(service('causeway-setup').command).toEqual(['node', 'bin/causeway.js', 'temporal', 'setup']);
    expect(dependsOn('causeway-setup')).toEqual({
      'temporal-namespace': { condition: 'service_completed_successfully' },
    });
    expect(dependsOn('temporal-namespace')).toEqual({ temporal: { condition: 'service_healthy' } });
    expect(dependsOn('temporal')).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
    expect(dependsOn('temporal-schema')).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(dependsOn('migrate')).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const oneShot of ['temporal-schema', 'temporal-namespace', 'causeway-setup', 'migrate'])
      expect(service(oneShot).restart).toBe('no');
    for (const long of ['postgres', 'temporal', 'temporal-ui', 'api', 'worker'])
      expect(service(long).restart).toBe('unless-stopped');
  });

  it("every docker compose command of the docs' compose section names services the file has", () => {
    const section = OPERATIONS_DOC.slice(
      OPERATIONS_DOC.indexOf('## Deploy with docker compose'),
      OPERATIONS_DOC.indexOf('\n## ', OPERATIONS_DOC.indexOf('## Deploy with docker compose') + 5),
    );
    const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!.replace(/\\\n/g, ' ');
    const commands = block
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter(Boolean);
    expect(commands.length).toBeGreaterThan(3);
    const names = Object.keys(services);
    for (const command of commands) {
      const words = command.split(/\s+/);
      const at = words.indexOf('compose');
      expect(at, command).toBeGreaterThan(0);
      const [sub, ...rest] = words.slice(at + 1);
      const referenced: string[] = [];
      for (let i = 0; i < rest.length; i++) {
        const word = rest[i]!;
        if (word === '--scale') referenced.push(rest[++i]!.split('=')[0]!);
        else if (word === '--entrypoint') i++;
        else if (!word.startsWith('-')) {
          referenced.push(word);
          if (sub === 'run' || sub === 'exec') break; // the rest is the command run inside
        }
      }
      expect(['up', 'ps', 'logs', 'run', 'exec', 'down'], command).toContain(sub);
      expect(
        referenced.filter((s) => !names.includes(s)),
        command,
      ).toEqual([]);
    }
    // The section names every one-shot step the file has.
    for (const oneShot of ['temporal-schema', 'temporal-namespace', 'causeway-setup', 'migrate'])
      expect(section).toContain(`\`${oneShot}\``);
  });

  // The schema step's own script, run twice against this machine's Postgres with temporal-sql-tool built from the
  // pinned server module (`npm run cluster` builds it), on databases of its own: it works and a rerun is harmless.
  // Skipped when the tool or the module's schema directory is not there.
  const env = loadEnv();
  const sqlTool = path.join(env.CACHE_DIR, 'temporal-server-v1.29.1', 'temporal-sql-tool');
  const schemaDir = path.join(
    os.homedir(),
    'go',
    'pkg',
    'mod',
    'go.temporal.io',
    'server@v1.29.1',
    'schema',
    'postgresql',
    'v12',
  );
  it.skipIf(!existsSync(sqlTool) || !existsSync(schemaDir))(
    'the temporal-schema script sets up both databases, and running it again changes nothing',
    async () => {
      const suffix = randomBytes(4).toString('hex');
      const names = { temporal: `compose_t_${suffix}`, temporal_visibility: `compose_tv_${suffix}` };
      const script = (service('temporal-schema').command as string[])
        .join('\n')
        .replace(/\$\$/g, '$')
        .replace(/--db (temporal_visibility|temporal)\b/g, (_, db: keyof typeof names) => `--db ${names[db]}`)
        .replace(/temporal-sql-tool/g, sqlTool)
        .replace(/\/etc\/temporal\/schema\/postgresql\/v12/g, schemaDir);
      const server = new URL(env.TEST_DATABASE_URL);
      const sqlEnv = {
        ...environment('temporal-schema'),
        SQL_HOST: server.hostname,
        SQL_PORT: server.port || '5432',
        SQL_USER: decodeURIComponent(server.username),
        SQL_PASSWORD: decodeURIComponent(server.password),
      };
      const admin = postgres(env.TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
      try {
        for (const run of [1, 2]) {
          const result = spawnSync('/bin/sh', ['-euc', script], { encoding: 'utf8', env: childProcessEnv(sqlEnv) });
          expect(result.status, `run ${run}: ${result.stderr.slice(-2000)}`).toBe(0);
          expect(result.stdout).toContain('temporal schemas up to date');
        }
        for (const [db, versions] of [
          [names.temporal, 'temporal'],
          [names.temporal_visibility, 'visibility'],
        ] as const) {
          const url = new URL(env.TEST_DATABASE_URL);
          url.pathname = `/${db}`;
          const conn = postgres(url.toString(), { max: 1, onnotice: () => undefined });
          try {
            const [row] = await conn<{ curr_version: string }[]>`select curr_version from schema_version`;
            // The newest versioned directory of the module's schema (v1.18, v1.9 …): the schema is current.
            const latest = readdirSorted(path.join(schemaDir, versions, 'versioned')).at(-1)!;
            expect(`v${row!.curr_version}`).toBe(latest);
          } finally {
            await conn.end();
          }
        }
      } finally {
        for (const db of Object.values(names)) await admin.unsafe(`drop database if exists "${db}"`);
        await admin.end();
      }
    },
  );

  // Validation by a real Compose implementation (no engine needed for `config`). Skipped, with this note, on a
  // machine without one: `apt-get install docker-compose` (Debian's v1) or Docker's compose plugin provides it.
  it.skipIf(!composeCli)(
    '`docker compose config` accepts the file, resolves the anchors, and passes a set variable to every Causeway service',
    () => {
      const quiet = runCompose(['config', '-q']);
      expect(quiet.stderr + quiet.stdout).toBe('');
      expect(quiet.status).toBe(0);
      const listed = runCompose(['config', '--services']);
      expect(listed.stdout.trim().split('\n').sort()).toEqual(Object.keys(services).sort());
      // A value set in the shell reaches every Causeway service through the merged environment.
      const probe = runCompose(['config'], { OPENAI_MODEL: 'probe-model-7f3a', MESSAGE_DEBOUNCE: '7s' });
      expect(probe.status).toBe(0);
      expect(probe.stdout.match(/OPENAI_MODEL: probe-model-7f3a/g)).toHaveLength(CAUSEWAY_SERVICES.length);
      expect(probe.stdout.match(/MESSAGE_DEBOUNCE: 7s/g)).toHaveLength(CAUSEWAY_SERVICES.length);
    },
  );
});
