import { describe, expect, it } from 'vitest';
import {
  clusterLayout,
  listenPorts,
  parsePostgresUrl,
  renderServerConfig,
  renderUiConfig,
} from '../../src/local/cluster/config';

const layout = () =>
  clusterLayout({
    databaseUrl: 'postgres://temporal:s3cr%40t@db.internal:6543/causeway',
    temporalAddress: '127.0.0.1:7233',
    uiPort: 8233,
    apiPort: 3000,
    namespace: 'default',
  });

describe('cluster config', () => {
  it("derives Temporal's databases from DATABASE_URL and a port block above the frontend", () => {
    const l = layout();
    expect(l.postgres).toEqual({
      host: 'db.internal',
      port: 6543,
      user: 'temporal',
      password: 's3cr@t',
      database: 'causeway',
    });
    expect([l.temporalDatabase, l.visibilityDatabase]).toEqual(['causeway_temporal', 'causeway_temporal_visibility']);
    expect(l.apiPorts).toEqual([3000, 3001]);
    const ports = listenPorts(l, true);
    expect(new Set(ports).size).toBe(ports.length);
    expect(ports.filter((p) => p >= 7233 && p <= 7242)).toHaveLength(10);
  });

  it('renders the server config on postgres12 for both stores, 4 shards, loopback services', () => {
    const yaml = renderServerConfig(layout(), '/data/cluster/config/dynamicconfig.yaml');
    expect(yaml).toContain('numHistoryShards: 4');
    expect(yaml.match(/pluginName: "postgres12"/g)).toHaveLength(2);
    expect(yaml).toContain('databaseName: "causeway_temporal"');
    expect(yaml).toContain('databaseName: "causeway_temporal_visibility"');
    expect(yaml).toContain('connectAddr: "db.internal:6543"');
    expect(yaml.match(/bindOnLocalHost: true/g)).toHaveLength(4);
    expect(yaml).toContain('grpcPort: 7233');
    expect(yaml).toContain('filepath: "/data/cluster/config/dynamicconfig.yaml"');
    expect(renderUiConfig(layout())).toContain('temporalGrpcAddress: "127.0.0.1:7233"');
    // Issue 18 C: loopback, read-only unless asked for.
    expect(renderUiConfig(layout())).toContain('host: "127.0.0.1"');
    expect(renderUiConfig(layout())).toContain('disableWriteActions: true');
    const writable = clusterLayout({
      databaseUrl: 'postgres://p@h/causeway',
      temporalAddress: '127.0.0.1:7233',
      uiPort: 8233,
      uiWriteActions: true,
      apiPort: 3000,
      namespace: 'default',
    });
    expect(renderUiConfig(writable)).toContain('disableWriteActions: false');
  });

  it('refuses what it cannot run: a non-loopback frontend, a database name that needs quoting', () => {
    expect(() =>
      clusterLayout({
        databaseUrl: 'postgres://p@h/causeway',
        temporalAddress: 'temporal:7233',
        uiPort: 1,
        apiPort: 2,
        namespace: 'default',
      }),
    ).toThrow(/127\.0\.0\.1/);
    expect(() => parsePostgresUrl('postgres://p@h/Cause-way')).toThrow(/lower-case/);
    expect(() => parsePostgresUrl('mysql://p@h/causeway')).toThrow(/postgres/);
  });
});
