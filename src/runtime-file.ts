import fs from 'node:fs';
import path from 'node:path';

/**
 * `npm start` writes where its embedded services listen to `<data dir>/runtime.json`, so the CLI in another
 * terminal finds the same database, Temporal and API without any configuration.
 */
export interface RuntimeInfo {
  pid: number;
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  apiUrl: string;
  publicBaseUrl: string;
  webUiUrl: string | null;
}

const file = (dataDir: string) => path.join(dataDir, 'runtime.json');

export function writeRuntimeInfo(dataDir: string, info: RuntimeInfo): void {
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file(dataDir), JSON.stringify(info, null, 2));
}

export function removeRuntimeInfo(dataDir: string): void {
  fs.rmSync(file(dataDir), { force: true });
}

/** The running service's info, or null when there is none (or its process is gone). */
export function readRuntimeInfo(dataDir: string): RuntimeInfo | null {
  let info: RuntimeInfo;
  try {
    info = JSON.parse(fs.readFileSync(file(dataDir), 'utf8')) as RuntimeInfo;
  } catch {
    return null;
  }
  try {
    process.kill(info.pid, 0);
    return info;
  } catch {
    return null;
  }
}
