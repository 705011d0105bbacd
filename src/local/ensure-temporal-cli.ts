// `npm run temporal:ensure`: finds or builds the Temporal CLI and prints its path (used by .ci/run).
import { readEnvOrExit } from '../config/env';
import { ensureTemporalCli } from './temporal-cli';

const env = readEnvOrExit();
const started = Date.now();
const cli = await ensureTemporalCli({
  explicitPath: env.TEMPORAL_CLI_PATH,
  pathEnv: env.PATH,
  cacheDir: env.CACHE_DIR,
});
console.error(`temporal CLI from ${cli.source} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(cli.path);
