import type { Command } from 'commander';
import { inboundWorkflowId } from '../../contract';
import { findRepliesTo } from '../../db/conversations/replies';
import { listNumbersWithCredentials } from '../../db/tenants/lookup';
import { formatAddress, parseAddress } from '../../domain/address';
import { parseDuration } from '../../domain/duration';
import { newMessageSid, signedWebhook } from '../../integrations/signed-webhook';
import { CliError, type CliContext } from '../context';
import { openSecret } from '../../secrets/keyring';

interface SimulateOptions {
  body: string;
  from: string;
  to?: string;
  tenant?: string;
  channel: 'whatsapp' | 'sms';
  api?: string;
  wait: boolean;
  timeout: string;
}

export function registerSimulateCommand(program: Command, ctx: () => CliContext) {
  program
    .command('simulate')
    .description('post a correctly signed inbound webhook to the running API and print the reply')
    .requiredOption('--body <text>', 'message text')
    .option('--from <phone>', 'customer phone, +E164', '+5511999990001')
    .option('--to <phone>', "tenant's number, +E164 (default: the tenant's first number on the channel)")
    .option('--tenant <slug>', 'tenant (default: the only one, or "demo")')
    .option('--channel <channel>', 'whatsapp or sms', 'whatsapp')
    .option('--api <url>', 'API base URL (default: the running npm start, else http://localhost:$PORT)')
    .option('--no-wait', 'do not wait for the reply')
    .option('--timeout <duration>', 'how long to wait for the reply', '30s')
    .action(async (o: SimulateOptions) => {
      const { env, runtime } = ctx();
      if (o.channel !== 'whatsapp' && o.channel !== 'sms') throw new CliError('--channel must be whatsapp or sms');
      const from = parseAddress(o.from);
      if (!from) throw new CliError('--from must be a phone number in +E164 form');
      const database = await ctx().database();
      try {
        const numbers = await listNumbersWithCredentials(database.db, o.channel);
        const slugs = [...new Set(numbers.map((n) => n.slug))];
        const slug = o.tenant ?? (slugs.length === 1 ? slugs[0] : slugs.includes('demo') ? 'demo' : undefined);
        if (!slug)
          throw new CliError(
            numbers.length === 0
              ? `no tenant has a ${o.channel} number (npm start creates a demo tenant)`
              : `several tenants: pick one with --tenant (${slugs.join(', ')})`,
          );
        const target = numbers.find((n) => n.slug === slug && (!o.to || n.phone === o.to));
        if (!target) throw new CliError(`tenant ${slug} has no ${o.channel} number${o.to ? ` ${o.to}` : ''}`);

        const messageSid = newMessageSid();
        const params = {
          MessageSid: messageSid,
          SmsMessageSid: messageSid,
          AccountSid: target.accountSid,
          MessagingServiceSid: '',
          From: formatAddress(o.channel, from.phone),
          To: formatAddress(o.channel, target.phone),
          Body: o.body,
          NumMedia: '0',
          NumSegments: '1',
          SmsStatus: 'received',
          ApiVersion: '2010-04-01',
          ...(o.channel === 'whatsapp' ? { ProfileName: 'Simulated customer', WaId: from.phone.slice(1) } : {}),
        };
        const publicBaseUrl = runtime?.publicBaseUrl ?? env.PUBLIC_BASE_URL;
        const apiUrl = (o.api ?? runtime?.apiUrl ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
        const request = signedWebhook({
          publicBaseUrl,
          path: '/webhooks/twilio/messages',
          authToken: openSecret(target.authToken),
          params,
        });
        let response: Response;
        try {
          response = await fetch(`${apiUrl}/webhooks/twilio/messages`, {
            method: 'POST',
            headers: request.headers,
            body: request.body,
          });
        } catch (error) {
          throw new CliError(`cannot reach the API at ${apiUrl} (is npm start running?): ${(error as Error).message}`);
        }
        if (!response.ok) throw new CliError(`API answered ${response.status}: ${await response.text()}`);
        console.log(`sent ${messageSid} to ${slug} (${o.channel}); workflow ${inboundWorkflowId(messageSid)}`);
        if (!o.wait) return;

        // The reply shares the inbound's correlation id (its MessageSid). Polling here is only the CLI waiting
        // to show a result; nothing in the service polls.
        const deadline = Date.now() + parseDuration(o.timeout);
        while (Date.now() < deadline) {
          const replies = await findRepliesTo(database.db, messageSid);
          const done = replies.filter((r) => r.status !== 'pending');
          if (done.length > 0) {
            for (const reply of done) console.log(`reply (${reply.sentBy}, ${reply.status}): ${reply.body}`);
            if (runtime?.webUiUrl)
              console.log(`Web UI: ${runtime.webUiUrl}/namespaces/${runtime.temporalNamespace}/workflows`);
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        throw new CliError(
          `no reply within ${o.timeout} (a burst is answered after MESSAGE_DEBOUNCE; check the worker logs)`,
          2,
        );
      } finally {
        await database.close();
      }
    });
}
