import type { Connection } from '@temporalio/client';
import type { Command } from 'commander';
import { ALL_SEARCH_ATTRIBUTES } from '../../contract/search-attributes';
import { parseDuration } from '../../domain/duration';
import { ensureSearchAttributes } from '../../temporal/connection';
import { CliError, type CliContext } from '../context';

const RETRY_PAUSE_MS = 1000;

/**
 * Registers the custom search attributes in the namespace and checks they are listed, retrying while the server
 * or the namespace is not there yet (a cluster still starting), at most `waitMs`. Idempotent.
 */
export async function setUpTemporal(connection: Connection, namespace: string, waitMs: number): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await ensureSearchAttributes(connection, namespace);
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = ALL_SEARCH_ATTRIBUTES.filter((key) => !(key.name in (listed.customAttributes ?? {})));
      if (missing.length === 0) return ALL_SEARCH_ATTRIBUTES.map((key) => key.name);
      throw new Error(`not listed yet: ${missing.map((key) => key.name).join(', ')}`);
    } catch (error) {
      if (Date.now() + RETRY_PAUSE_MS > deadline) {
        throw new CliError(
          `search attributes not registered in namespace ${namespace} after ${attempt} attempts: ${(error as Error).message}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
    }
  }
}

export function registerTemporalCommands(program: Command, ctx: () => CliContext) {
  const temporal = program.command('temporal').description('Temporal cluster set-up');
  temporal
    .command('setup')
    .description(
      'register the custom search attributes in TEMPORAL_NAMESPACE (idempotent); run before any API or worker starts',
    )
    .option('--wait <duration>', 'keep retrying this long while the server or namespace is not ready', '2m')
    .action(async (options: { wait: string }) => {
      const context = ctx();
      const handle = await context.temporal();
      try {
        const names = await setUpTemporal(
          handle.connection,
          context.env.TEMPORAL_NAMESPACE,
          parseDuration(options.wait),
        );
        console.log(`search attributes registered in namespace ${context.env.TEMPORAL_NAMESPACE}: ${names.join(', ')}`);
      } finally {
        await handle.close();
      }
    });
}
