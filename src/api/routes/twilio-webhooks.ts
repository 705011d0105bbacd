import { Hono, type Context, type Handler, type MiddlewareHandler } from 'hono';
import { campaignWorkflowId, targetsChangedSignal } from '../../contract';
import { startInboundWorkflow } from '../../temporal/start-inbound';
import { startStatusCallbackWorkflow } from '../../temporal/start-status';
import { createInboxDrainer } from '../../services/inbox';
import { startRecordedRedelivery } from '../../temporal/start-redelivery';
import { applyDeliveryStatus } from '../../db/ingress/delivery-status';
import { describeDatabaseError, isDatabaseUnavailable, isTransientDatabaseError } from '../../db/core/errors';
import { parkInbound } from '../../db/ingress/inbox';
import { recordOrphanInbound } from '../../db/ingress/orphans';
import type { ParsedAddress } from '../../domain/address';
import { normalizeInboundParams } from '../../domain/inbound-text';
import {
  ACCOUNT_SID,
  InboundParamsError,
  MESSAGE_SID,
  parseInboundParams,
  toInboundInput,
} from '../../integrations/twilio-inbound';
import { KNOWN_STATUSES, STATUS_SHAPE } from '../../domain/message-status';
import { newRootTrace } from '../../domain/trace';
import { serviceContext, type AppDeps, type AppEnv } from '../context';
import { createMetrics, type WebhookEndpoint } from '../../observability/metrics';
import { ApiError } from '../errors';
import { lazyChild } from '../../logger';
import { bodyLimitByLength } from '../limits';
import { createAccountResolver, createTenantResolver, type InboundTarget } from '../tenant-cache';
import { isValidTwilioSignature } from '../twilio-signature';

/** Twilio's webhook bodies are a few KB; anything far larger is not Twilio. */
export const WEBHOOK_BODY_LIMIT = 64 * 1024;
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
/** Within Twilio's 15 s read timeout, with room left to park the message when Temporal does not answer. */
const START_DEADLINE_MS = 5000;
/** How long a resolved (account, number) → tenant mapping is reused by the webhook. */
const TENANT_CACHE_TTL_MS = 10_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const errorName = (error: unknown) => (error instanceof Error ? error.name : typeof error);

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

export function twilioWebhookRoutes(deps: AppDeps) {
  const { db, temporal, env } = deps;
  const clock = deps.clock ?? (() => new Date());
  const startDeadlineMs = deps.webhook?.startDeadlineMs ?? START_DEADLINE_MS;
  const metrics = deps.metrics ?? createMetrics('api');
  const inbox =
    deps.inboxDrainer ??
    createInboxDrainer({ ...serviceContext(deps), log: deps.log.child({ component: 'inbox-drain' }) });

  function signedBy(c: Context<AppEnv>, authToken: string, params: Params) {
    const signature = c.req.header('x-twilio-signature');
    return isValidTwilioSignature({
      authToken,
      signature,
      publicBaseUrl: env.PUBLIC_BASE_URL,
      requestUrl: c.req.url,
      params,
      connectionOverrides: env.TWILIO_CONNECTION_OVERRIDES ?? '',
    });
  }

  /**
   * Checks the signature against the cached token, and on a mismatch against the token the database holds now
   * (`tenant update --rotate-auth-token` takes effect at once); the old token stops working within the cache TTL.
   */
  async function verify<T extends { authToken: string }>(
    c: Context<AppEnv>,
    cached: T,
    params: Params,
    reload: () => Promise<T | null>,
  ): Promise<T> {
    if (signedBy(c, cached.authToken, params)) return cached;
    const current = await reload().catch(() => null);
    if (current && current.authToken !== cached.authToken && signedBy(c, current.authToken, params)) return current;
    throw new ApiError('invalid_signature', 'missing or invalid X-Twilio-Signature');
  }

  const cacheOptions = { ttlMs: deps.webhook?.tenantCacheTtlMs ?? TENANT_CACHE_TTL_MS, maxEntries: 10_000 };
  // Stale-if-error: while the database is down, the last known token still verifies (see createStaleIfErrorCache).
  const resolveTarget = createTenantResolver(db, cacheOptions);
  const resolveAccount = createAccountResolver(db, cacheOptions);

  /** A database failure: unavailable → 503 (Twilio does not retry it, reconciliation does); a data error → 500. */
  function databaseFailure(error: unknown, message: string): never {
    if (isDatabaseUnavailable(error)) throw new ApiError('database_unavailable', message, { cause: error });
    // The generic error handler would log the error itself, and a query error's message carries its parameters.
    deps.log.error({ err: describeDatabaseError(error) }, 'database error in the Twilio webhook');
    throw new ApiError('internal', 'internal error');
  }

  /** The account (for its auth token) and the tenant owning the number; an unknown account cannot be verified. */
  async function targetFor(c: Context<AppEnv>, accountSid: string, to: ParsedAddress) {
    const target = await resolveTarget(accountSid, to.channel, to.phone).catch((error: unknown) =>
      databaseFailure(error, 'cannot verify the webhook right now (database unavailable, account not cached)'),
    );
    if (!target) {
      // Nothing from an unknown account is stored: its signature cannot be checked, so it could be anyone.
      c.get('log').warn({ accountSid }, 'webhook for an unknown Twilio account rejected');
      c.set('webhookReason', 'unknown_account');
      throw new ApiError('invalid_signature', 'unknown Twilio account');
    }
    return target;
  }

  const limit = bodyLimitByLength({
    maxSize: WEBHOOK_BODY_LIMIT,
    onError: () => {
      throw new ApiError('payload_too_large', `body over ${WEBHOOK_BODY_LIMIT} bytes`);
    },
  });

  /**
   * "A message comes in", and the Fallback URL (Twilio adds ErrorCode and ErrorUrl, both signed like the rest).
   * The first write that counts is Temporal's (`inbound:<MessageSid>`); when Temporal does not take it in time,
   * the Postgres inbox does, and a drain hands it over later. Only when neither can take it: 503.
   */
  const inbound: Handler<AppEnv> = async (c) => {
    const params = await readForm(c);
    let parsed;
    try {
      parsed = parseInboundParams(params);
    } catch (error) {
      if (error instanceof InboundParamsError) throw new ApiError('bad_request', error.message);
      throw error;
    }
    const { messageSid, accountSid, to } = parsed;
    if (!c.req.header('x-twilio-signature')) throw new ApiError('invalid_signature', 'missing X-Twilio-Signature');

    const withToken = (t: InboundTarget) => ({ authToken: t.account.authToken, target: t });
    const { target } = await verify(c, withToken(await targetFor(c, accountSid, to)), params, async () => {
      const current = await resolveTarget.reload(accountSid, to.channel, to.phone);
      return current && withToken(current);
    });
    const tenant = target.tenant;
    const log = lazyChild(c.get('log'), { messageSid });
    if (params.ErrorCode) log.warn({ errorCode: params.ErrorCode }, 'webhook arrived through the Fallback URL');

    // D: verified against the raw parameters; stored as text Postgres can hold (field names logged, never text).
    const normalized = normalizeInboundParams(params);
    const { params: fields, normalizedFields } = normalized;
    if (normalizedFields.length > 0) log.info({ normalizedFields }, 'inbound text normalized');

    if (!tenant) {
      // I2: no fallback tenant. Keep the message as an orphan for an operator, answer nothing.
      await recordOrphanInbound(db, {
        messageSid,
        accountSid,
        toAddress: fields.To!,
        reason: 'number not assigned to a tenant',
        payload: fields,
      }).catch((error: unknown) => databaseFailure(error, 'cannot store the message right now'));
      log.warn({ accountSid, channel: to.channel }, 'inbound message for a number no tenant owns: stored as orphan');
      c.set('webhookOutcome', 'orphan');
      return c.body(EMPTY_TWIML, 200, { 'Content-Type': 'text/xml' });
    }

    const trace = newRootTrace();
    const input = toInboundInput(params, parsed, tenant, { receivedAt: clock(), trace, normalized });
    try {
      const outcome = await startInboundWorkflow(temporal, env.TEMPORAL_TASK_QUEUE, input, {
        deadlineMs: startDeadlineMs,
      });
      if (outcome === 'duplicate') log.info('duplicate webhook ignored');
      else log.info({ tenant: tenant.tenantSlug, traceId: trace.traceId }, 'inbound accepted');
      c.set('webhookOutcome', outcome === 'duplicate' ? 'duplicate' : 'accepted');
    } catch (startError) {
      // Temporal refused or did not answer in time (it may even have started it: the drain then sees a duplicate).
      try {
        const parked = await parkInbound(db, env.TEMPORAL_TASK_QUEUE, input);
        log.warn(
          { temporal: errorName(startError), parked },
          'Temporal did not accept the inbound workflow: message parked in the inbox',
        );
        c.set('webhookOutcome', 'parked');
      } catch (parkError) {
        log.error(
          { temporal: errorName(startError), database: describeDatabaseError(parkError) },
          'neither Temporal nor the database took the message',
        );
        throw new ApiError(
          'temporal_unavailable',
          'message not accepted: neither Temporal nor the database can take it now',
          { cause: startError },
        );
      }
      inbox.kick();
    }
    // Only now, with the message durable in Temporal or in the inbox, does Twilio get its 200.
    return c.body(EMPTY_TWIML, 200, { 'Content-Type': 'text/xml' });
  };

  /**
   * Counts every request once it is answered: the outcome the handler recorded, or what its error says (the
   * app's error handler has already turned a thrown ApiError into the response, and left it in `c.error`).
   */
  const counted =
    (endpoint: WebhookEndpoint): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      await next();
      const error = c.error;
      let outcome = c.get('webhookOutcome') ?? 'error';
      let reason = '';
      if (error) {
        const code = error instanceof ApiError ? error.code : 'internal';
        outcome =
          code === 'temporal_unavailable' || code === 'database_unavailable'
            ? 'unavailable'
            : code === 'internal'
              ? 'error'
              : 'rejected';
        reason = outcome === 'rejected' ? (c.get('webhookReason') ?? code) : outcome === 'unavailable' ? code : '';
      }
      metrics.webhooks.inc({ endpoint, outcome, reason });
    };

  return new Hono<AppEnv>()
    .post('/messages', counted('messages'), limit, inbound)
    .post('/messages/fallback', counted('fallback'), limit, inbound)
    .post('/status', counted('status'), limit, async (c) => {
      const params = await readForm(c);
      const messageSid = required(params, 'MessageSid', MESSAGE_SID);
      const accountSid = required(params, 'AccountSid', ACCOUNT_SID);
      const status = required(params, 'MessageStatus');
      // Issue 22 D: every status Twilio may send is taken (an unknown one is stored as an event and logged);
      // only a value that is no status at all is refused.
      if (!STATUS_SHAPE.test(status)) throw new ApiError('bad_request', 'malformed MessageStatus');
      const cachedAccount = await resolveAccount(accountSid).catch((error: unknown) =>
        databaseFailure(error, 'cannot check the signature right now (database unavailable, account not cached)'),
      );
      if (!cachedAccount) {
        c.set('webhookReason', 'unknown_account');
        throw new ApiError('invalid_signature', 'unknown Twilio account');
      }
      const account = await verify(c, cachedAccount, params, () => resolveAccount.reload(accountSid));
      const log = lazyChild(c.get('log'), { messageSid });
      // Issue 25 A: the send's message id, from the callback URL it gave Twilio (covered by the signature above).
      const messageId = c.req.query('m');
      const callback = {
        tenantId: account.tenantId,
        messageSid,
        status,
        errorCode: params.ErrorCode ?? null,
        ...(messageId && UUID.test(messageId) ? { messageId } : {}),
      };
      let result;
      try {
        result = await applyDeliveryStatus(db, callback);
      } catch (error) {
        if (!isTransientDatabaseError(error)) {
          log.error({ err: describeDatabaseError(error) }, 'status callback rejected by the database');
          throw new ApiError('internal', 'status callback could not be stored');
        }
        // The database cannot take it now: Temporal keeps it and applies it once the database is back.
        try {
          const started = await startStatusCallbackWorkflow(temporal, env.TEMPORAL_TASK_QUEUE, callback, {
            deadlineMs: startDeadlineMs,
          });
          log.warn(
            { status, database: describeDatabaseError(error), started },
            'status callback handed to Temporal (database unavailable)',
          );
          c.set('webhookOutcome', 'handed_to_temporal');
        } catch (startError) {
          log.error(
            { status, database: describeDatabaseError(error), temporal: errorName(startError) },
            'neither the database nor Temporal took the status callback',
          );
          throw new ApiError(
            'database_unavailable',
            'status not recorded: neither the database nor Temporal can take it now',
            { cause: error },
          );
        }
        return c.body(null, 204);
      }
      if (!KNOWN_STATUSES.includes(status))
        log.warn({ status, outcome: result.outcome }, 'unknown MessageStatus recorded');
      else log.info({ status, outcome: result.outcome }, 'delivery status');
      c.set('webhookOutcome', 'applied');
      if (result.outcome === 'updated') metrics.messageStatus.inc({ status });
      if (result.redeliver) {
        // 63016 with a template, or a retryable code: the follow-up send runs as its own short workflow.
        // Recorded with the status (redelivery_inbox): if Temporal does not take it now, the inbox drain does.
        await startRecordedRedelivery(db, temporal, env.TEMPORAL_TASK_QUEUE, result.redeliver, {
          deadlineMs: startDeadlineMs,
          backoffBaseMs: env.DELIVERY_RETRY_BACKOFF,
        }).catch((error: unknown) => {
          log.warn(
            { err: errorName(error), mode: result.redeliver?.mode },
            'redelivery not started yet: left to the inbox drain',
          );
          inbox.kick();
        });
      }
      if (result.campaignToNotify) {
        // A retry was scheduled, or the last open target settled: wake the campaign (its own timer is the backstop).
        await temporal.workflow
          .getHandle(campaignWorkflowId(result.campaignToNotify))
          .signal(targetsChangedSignal)
          .catch((error: unknown) => log.warn({ err: error }, 'could not notify the campaign workflow'));
      }
      return c.body(null, 204);
    });
}
