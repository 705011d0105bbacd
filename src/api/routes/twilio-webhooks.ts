import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { campaignWorkflowId, targetsChangedSignal, type InboundInput, type MediaItem } from '../../contract';
import { startInboundWorkflow } from '../../temporal/start-inbound';
import { startRedelivery } from '../../temporal/start-redelivery';
import { applyDeliveryStatus } from '../../db/delivery-status';
import { orphanInbound } from '../../db/schema';
import { findAccount } from '../../db/tenants';
import { parseAddress, type ParsedAddress } from '../../domain/address';
import { KNOWN_STATUSES } from '../../domain/message-status';
import { newRootTrace } from '../../domain/trace';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';
import { createTenantResolver } from '../tenant-cache';
import { isValidTwilioSignature } from '../twilio-signature';

/** Twilio's webhook bodies are a few KB; anything far larger is not Twilio. */
export const WEBHOOK_BODY_LIMIT = 64 * 1024;
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
const MESSAGE_SID = /^(SM|MM)[0-9a-fA-F]{32}$/;
const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
const START_DEADLINE_MS = 5000;
/** How long a resolved (account, number) → tenant mapping is reused by the webhook. */
const TENANT_CACHE_TTL_MS = 10_000;

type Params = Record<string, string>;

async function readForm(c: Context<AppEnv>): Promise<Params> {
  const type = c.req.header('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new ApiError('unsupported_media_type', 'expected application/x-www-form-urlencoded (a Twilio webhook)');
  }
  const params: Params = {};
  for (const [key, value] of new URLSearchParams(await c.req.text())) {
    if (key in params) throw new ApiError('bad_request', `parameter ${key} appears more than once`);
    params[key] = value;
  }
  return params;
}

function required(params: Params, name: string, pattern?: RegExp): string {
  const value = params[name];
  if (value === undefined || value === '') throw new ApiError('bad_request', `missing parameter ${name}`);
  if (pattern && !pattern.test(value)) throw new ApiError('bad_request', `malformed parameter ${name}`);
  return value;
}

function parseMedia(params: Params): MediaItem[] {
  const count = Number(params.NumMedia ?? '0');
  if (!Number.isInteger(count) || count < 0 || count > 10) throw new ApiError('bad_request', 'malformed parameter NumMedia');
  return Array.from({ length: count }, (_, i) => ({ url: params[`MediaUrl${i}`] ?? '', contentType: params[`MediaContentType${i}`] ?? null }))
    .filter((m) => m.url !== '');
}

export function twilioWebhookRoutes(deps: AppDeps) {
  const { db, temporal, env } = deps;
  const clock = deps.clock ?? (() => new Date());

  function verify(c: Context<AppEnv>, authToken: string, params: Params) {
    const signature = c.req.header('x-twilio-signature');
    if (!isValidTwilioSignature({ authToken, signature, publicBaseUrl: env.PUBLIC_BASE_URL, requestUrl: c.req.url, params })) {
      throw new ApiError('invalid_signature', 'missing or invalid X-Twilio-Signature');
    }
  }

  const resolveTarget = createTenantResolver(db, { ttlMs: TENANT_CACHE_TTL_MS, maxEntries: 10_000 });

  /** The account (for its auth token) and the tenant owning the number; an unknown account cannot be verified. */
  async function targetFor(c: Context<AppEnv>, accountSid: string, to: ParsedAddress) {
    let target;
    try {
      target = await resolveTarget(accountSid, to.channel, to.phone);
    } catch (error) {
      throw new ApiError('database_unavailable', 'cannot resolve the tenant right now', { cause: error });
    }
    if (!target) {
      // Nothing from an unknown account is stored: its signature cannot be checked, so it could be anyone.
      c.get('log').warn({ accountSid }, 'webhook for an unknown Twilio account rejected');
      throw new ApiError('invalid_signature', 'unknown Twilio account');
    }
    return target;
  }

  const limit = bodyLimit({ maxSize: WEBHOOK_BODY_LIMIT, onError: () => { throw new ApiError('payload_too_large', `body over ${WEBHOOK_BODY_LIMIT} bytes`); } });

  return new Hono<AppEnv>()
    .post('/messages', limit, async (c) => {
      const params = await readForm(c);
      const messageSid = required(params, 'MessageSid', MESSAGE_SID);
      const accountSid = required(params, 'AccountSid', ACCOUNT_SID);
      const to = parseAddress(required(params, 'To'));
      if (!to) throw new ApiError('bad_request', 'malformed parameter To');
      const from = parseAddress(required(params, 'From'));
      if (!from || from.channel !== to.channel) throw new ApiError('bad_request', 'malformed parameter From');
      const media = parseMedia(params);
      if (!c.req.header('x-twilio-signature')) throw new ApiError('invalid_signature', 'missing X-Twilio-Signature');

      const target = await targetFor(c, accountSid, to);
      verify(c, target.account.authToken, params);
      const tenant = target.tenant;
      const log = c.get('log').child({ messageSid });

      if (!tenant) {
        // I2: no fallback tenant. Keep the message as an orphan for an operator, answer nothing.
        await db.insert(orphanInbound).values({ messageSid, accountSid, toAddress: params.To!, reason: 'number not assigned to a tenant', payload: params })
          .onConflictDoNothing({ target: orphanInbound.messageSid });
        log.warn({ accountSid, channel: to.channel }, 'inbound message for a number no tenant owns: stored as orphan');
        return c.body(EMPTY_TWIML, 200, { 'Content-Type': 'text/xml' });
      }

      const trace = newRootTrace();
      const input: InboundInput = {
        tenantId: tenant.tenantId, tenantSlug: tenant.tenantSlug, messageSid, channel: to.channel,
        from: params.From!, to: params.To!, body: params.Body ?? '', media,
        profileName: params.ProfileName ?? null, originalRepliedMessageSid: params.OriginalRepliedMessageSid ?? null,
        receivedAt: clock().toISOString(), trace,
      };
      try {
        const outcome = await startInboundWorkflow(temporal, env.TEMPORAL_TASK_QUEUE, input, { deadlineMs: START_DEADLINE_MS });
        if (outcome === 'duplicate') log.info('duplicate webhook ignored');
        else log.info({ tenant: tenant.tenantSlug, traceId: trace.traceId }, 'inbound accepted');
      } catch (error) {
        log.error({ err: error }, 'Temporal did not accept the inbound workflow');
        throw new ApiError('temporal_unavailable', 'message not accepted, retry later', { cause: error });
      }
      // Only now, with the message durable in Temporal, does Twilio get its 200.
      return c.body(EMPTY_TWIML, 200, { 'Content-Type': 'text/xml' });
    })
    .post('/status', limit, async (c) => {
      const params = await readForm(c);
      const messageSid = required(params, 'MessageSid', MESSAGE_SID);
      const accountSid = required(params, 'AccountSid', ACCOUNT_SID);
      const status = required(params, 'MessageStatus');
      if (!KNOWN_STATUSES.includes(status)) throw new ApiError('bad_request', 'unknown MessageStatus');
      const account = await findAccount(db, accountSid).catch((error: unknown) => {
        throw new ApiError('database_unavailable', 'cannot check the signature right now', { cause: error });
      });
      if (!account) throw new ApiError('invalid_signature', 'unknown Twilio account');
      verify(c, account.authToken, params);
      const { outcome, campaignToNotify, redeliver } = await applyDeliveryStatus(db, { tenantId: account.tenantId, messageSid, status, errorCode: params.ErrorCode ?? null })
        .catch((error: unknown) => { throw new ApiError('database_unavailable', 'status not recorded, retry later', { cause: error }); });
      c.get('log').info({ messageSid, status, outcome }, 'delivery status');
      if (redeliver) {
        // 63016 with a template, or a retryable code: the follow-up send runs as its own short workflow.
        await startRedelivery(temporal, env.TEMPORAL_TASK_QUEUE, redeliver)
          .catch((error: unknown) => c.get('log').warn({ err: (error as Error).message, mode: redeliver.mode }, 'could not start the redelivery'));
      }
      if (campaignToNotify) {
        // A retry was scheduled, or the last open target settled: wake the campaign (its own timer is the backstop).
        await temporal.workflow.getHandle(campaignWorkflowId(campaignToNotify)).signal(targetsChangedSignal)
          .catch((error: unknown) => c.get('log').warn({ err: (error as Error).message }, 'could not notify the campaign workflow'));
      }
      return c.body(null, 204);
    });
}
