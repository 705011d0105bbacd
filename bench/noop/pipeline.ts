// The baselines' server side: the no-op pipeline's worker and webhook, and the bare routes the webhook's CPU and
// ack latency are compared with. Used in the bench process and in its child processes (bench/peer.ts).
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import { Hono } from 'hono';
import { isValidTwilioSignature } from '../../src/api/twilio-signature';
import { createDataConverter, FAILURE_CONVERTER_PATH } from '../../src/temporal/data-converter';
import type { PayloadKey } from '../../src/temporal/payload-codec';
import { createNoopActivities, deliverNoop } from './activities';
import type { NoopMessage, Shape } from './shape';

const WORKFLOWS = new URL('./workflows.ts', import.meta.url).pathname;
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

let bundle: Promise<WorkflowBundle> | null = null;
export const noopWorkflowBundle = () =>
  (bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    // As Causeway's worker (worker.ts WORKFLOW_PRELOAD_MODULES): the baseline's modules are evaluated once too.
    preloadModules: [WORKFLOWS],
    logger: quiet,
  }));

/** A worker of the no-op workflows, configured as Causeway's (same data converter: payloads encrypted). */
export async function startNoopWorker(options: {
  connection: NativeConnection;
  client: Client;
  namespace: string;
  taskQueue: string;
  payloadKeys: PayloadKey[] | null;
  twilioUrl: string;
  authToken: string;
}) {
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    dataConverter: createDataConverter(options.payloadKeys),
    workflowBundle: await noopWorkflowBundle(),
    activities: createNoopActivities(options),
  });
  const running = worker.run();
  return {
    stop: async () => {
      worker.shutdown();
      await running;
    },
  };
}

export const noopInboundId = (sid: string) => `noop-inbound:${sid}`;

/**
 * `POST /noop`: the no-op pipeline's webhook (read the form, check the signature, start `noop-inbound:<sid>`, or
 * signal-with-start the conversation when the shape has no inbound workflow), its shape in `x-noop-shape`.
 * `POST /bare`, `/bare-sig`, `/bare-start`: a bare route reading the body, + the signature check, + one
 * `workflow.start` (to `startQueue`, which no worker polls).
 */
export function noopRoutes(options: {
  client: Client;
  taskQueue: string;
  startQueue: string;
  authToken: string;
  publicBaseUrl: string;
}) {
  const verified = async (c: {
    req: { text(): Promise<string>; url: string; header(n: string): string | undefined };
  }) => {
    const params = Object.fromEntries(new URLSearchParams(await c.req.text()));
    const ok = isValidTwilioSignature({
      authToken: options.authToken,
      signature: c.req.header('x-twilio-signature'),
      publicBaseUrl: options.publicBaseUrl,
      requestUrl: c.req.url,
      params,
    });
    return ok ? params : null;
  };
  const twiml = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
  return new Hono()
    .post('/bare', async (c) => {
      await c.req.text();
      return c.body(twiml, 200, { 'content-type': 'text/xml' });
    })
    .post('/bare-sig', async (c) => {
      if (!(await verified(c))) return c.body('forbidden', 403);
      return c.body(twiml, 200, { 'content-type': 'text/xml' });
    })
    .post('/bare-start', async (c) => {
      const params = await verified(c);
      if (!params) return c.body('forbidden', 403);
      await options.client.workflow.start('noopInboundWorkflow', {
        workflowId: noopInboundId(params.MessageSid!),
        taskQueue: options.startQueue,
        args: [params],
      });
      return c.body(twiml, 200, { 'content-type': 'text/xml' });
    })
    .post('/noop', async (c) => {
      const params = await verified(c);
      if (!params) return c.body('forbidden', 403);
      const message: NoopMessage = {
        shape: JSON.parse(c.req.header('x-noop-shape') ?? 'null') as Shape,
        messageSid: params.MessageSid!,
        from: params.From!,
        to: params.To!,
        accountSid: params.AccountSid!,
        body: params.Body ?? '',
      };
      if (message.shape.inbound)
        await options.client.workflow.start('noopInboundWorkflow', {
          workflowId: noopInboundId(message.messageSid),
          taskQueue: options.taskQueue,
          args: [message],
        });
      else await deliverNoop(options.client, options.taskQueue, message);
      return c.body(twiml, 200, { 'content-type': 'text/xml' });
    })
    .get('/cpu', (c) => c.json(process.cpuUsage()));
}
