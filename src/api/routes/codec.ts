import { Hono, type Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { cors } from 'hono/cors';
import { z } from 'zod';
import {
  createOperatorSession,
  findOperatorBySession,
  recordCodecAccess,
  revokeOperatorSession,
} from '../../db/operators/sessions';
import { findOperatorByApiKey, type Operator } from '../../db/operators/users';
import { hasRole } from '../../domain/api-keys';
import type { Payload } from '@temporalio/common';

import { noteAudit } from '../audit';
import {
  isEncryptedPayload,
  KEY_ID_METADATA,
  tenantMarkerOf,
  tenantMarkers,
  type EncryptionCodec,
} from '../../temporal/payload-codec';
import { readJson } from '../body';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';

export const SESSION_COOKIE = 'causeway_session';
const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
const MAX_PAYLOADS = 10_000;

const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64')
  .max(8 * 1024 * 1024);
/** Temporal's codec server protocol: proto-JSON payloads, bytes as base64. */
const body = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), base64).nullish(), data: base64.nullish() }))
    .max(MAX_PAYLOADS),
});
type JsonPayload = z.infer<typeof body>['payloads'][number];

const fromJson = (p: JsonPayload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]),
  ),
  data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
});
const toJson = (p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/** The Web UI origins that may call with credentials: CODEC_CORS_ORIGINS, else TEMPORAL_UI_URL's, else the local dev UI. */
export function codecOrigins(env: AppDeps['env']): string[] {
  if (env.CODEC_CORS_ORIGINS)
    return env.CODEC_CORS_ORIGINS.split(',')
      .map((o) => o.trim().replace(/\/+$/, ''))
      .filter(Boolean);
  if (env.TEMPORAL_UI_URL) return [new URL(env.TEMPORAL_UI_URL).origin];
  const port = env.TEMPORAL_UI_PORT ?? 8233;
  return [`http://localhost:${port}`, `http://127.0.0.1:${port}`];
}

/**
 * The codec endpoint of Temporal's codec server protocol (POST /codec/decode, /codec/encode), for the Web UI, and
 * the sign-in page that gives a browser its session.
 *
 * Identity: the pinned UI (2.42.1, in the CLI's dev server) sends `Authorization` only with its own OIDC login and
 * only to https endpoints, and the dev server has neither; what it can do is `credentials: 'include'` (the UI's
 * "Include cross-origin credentials" codec setting). So an operator signs in here with their API key and gets an
 * HttpOnly session cookie; a Bearer API key works as well (curl, scripts). SUPERVISOR and ADMIN get the plaintext of
 * their own tenant's payloads (issue 18 B: by the payload's authenticated tenant marker), AGENT 403, nobody 401; every request of an identified operator is written to codec_audit.
 */
export function codecRoutes(deps: AppDeps & { payloadCodec?: EncryptionCodec | null }) {
  const origins = codecOrigins(deps.env);
  const namespace = deps.env.TEMPORAL_NAMESPACE ?? 'default';
  const app = new Hono<AppEnv>();

  app.use('/decode', corsFor(origins));
  app.use('/encode', corsFor(origins));

  async function identify(c: Context<AppEnv>): Promise<{ operator: Operator; via: 'session' | 'api_key' }> {
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (bearer) {
      const operator = await findOperatorByApiKey(deps.db, bearer);
      if (operator) return { operator, via: 'api_key' };
    }
    const token = getCookie(c, SESSION_COOKIE);
    if (token) {
      const operator = await findOperatorBySession(deps.db, token);
      if (operator) return { operator, via: 'session' };
    }
    throw new ApiError(
      'unauthorized',
      `sign in at ${new URL(c.req.url).origin}/codec/sign-in with a SUPERVISOR or ADMIN API key`,
    );
  }

  for (const action of ['decode', 'encode'] as const) {
    app.post(`/${action}`, async (c) => {
      const codec = deps.payloadCodec;
      if (!codec)
        throw new ApiError('not_found', 'payload encryption is not configured on this API (CAUSEWAY_PAYLOAD_KEYS)');
      // application/json forces a CORS preflight: no other site can post here with the operator's cookie unseen.
      if (!/^application\/json\b/i.test(c.req.header('content-type') ?? ''))
        throw new ApiError('unsupported_media_type', 'send application/json');
      const { operator, via } = await identify(c);
      c.set('operator', operator); // the audit log (src/api/audit.ts) records the decode under this operator
      const requested = c.req.header('x-namespace');
      const input = await readJson(c, body);
      const payloads = input.payloads.map(fromJson);
      const encrypted = payloads.filter(isEncryptedPayload);
      const keyIds = [
        ...new Set(encrypted.map((p) => Buffer.from(p.metadata[KEY_ID_METADATA] ?? new Uint8Array()).toString('utf8'))),
      ];
      const allowed = hasRole(operator.role, 'SUPERVISOR') && (!requested || requested === namespace);
      const workflowId = c.req.header('x-causeway-workflow-id')?.slice(0, 300) ?? null;
      let result: Payload[] = payloads;
      let withheld = 0;
      let failure: string | null = null;
      if (allowed) {
        try {
          if (action === 'encode') result = await codec.encodeForTenant(payloads, operator);
          else {
            // Issue 18 B: one namespace serves every tenant; an encrypted payload is opened only when its
            // authenticated tenant marker names the operator's tenant. Unmarked ones (system workflows, histories
            // written before the marker) are opened for nobody here: whoever holds CAUSEWAY_PAYLOAD_KEYS reads them.
            const mine = new Set(tenantMarkers(operator));
            const open = payloads.filter((p) => isEncryptedPayload(p) && mine.has(tenantMarkerOf(p) ?? ''));
            const opened = await codec.decode(open);
            result = payloads.map((p) => {
              if (!isEncryptedPayload(p)) return p;
              const at = open.indexOf(p);
              if (at < 0) withheld++;
              return at < 0 ? p : opened[at]!;
            });
          }
        } catch (error) {
          failure = (error as Error).message;
        }
      }
      await recordCodecAccess(deps.db, {
        tenantId: operator.tenantId,
        userId: operator.id,
        action,
        outcome: allowed && !failure ? 'allowed' : 'forbidden',
        via,
        namespace: requested ?? null,
        workflowId,
        origin: c.req.header('origin') ?? null,
        payloads: payloads.length,
        encrypted: encrypted.length,
        withheld,
        keyIds,
      });
      c.get('log').info(
        { operator: operator.id, action, allowed, payloads: payloads.length, encrypted: encrypted.length, withheld },
        'codec request',
      );
      if (!hasRole(operator.role, 'SUPERVISOR'))
        throw new ApiError('forbidden', 'decoding payloads requires role SUPERVISOR');
      if (!allowed) throw new ApiError('forbidden', `this codec serves namespace ${namespace}`);
      if (failure) throw new ApiError('bad_request', failure);
      c.header('Cache-Control', 'no-store');
      return c.json({ payloads: result.map(toJson) });
    });
  }

  app.get('/sign-in', (c) => signInPage(c, null));
  app.post('/session', async (c) => {
    const form = await c.req.parseBody();
    const key = typeof form.key === 'string' ? form.key.trim() : '';
    const operator = key ? await findOperatorByApiKey(deps.db, key) : null;
    if (!operator) return signInPage(c, { error: 'That API key is not valid (or was revoked).' }, 401);
    const session = await createOperatorSession(deps.db, operator, SESSION_TTL_MS);
    c.set('operator', operator);
    noteAudit(c, { action: 'codec.sign_in', targetType: 'key', targetId: operator.keyId ?? undefined });
    setCookie(c, SESSION_COOKIE, session.token, {
      ...cookieScope(c),
      httpOnly: true,
      path: '/codec',
      maxAge: SESSION_TTL_MS / 1000,
    });
    c.get('log').info({ operator: operator.id, role: operator.role }, 'codec session started');
    return signInPage(c, { operator }, 200);
  });
  app.post('/sign-out', async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (token) await revokeOperatorSession(deps.db, token);
    deleteCookie(c, SESSION_COOKIE, { ...cookieScope(c), path: '/codec' });
    return signInPage(c, null);
  });
  return app;
}

function corsFor(origins: string[]) {
  return cors({
    origin: (origin) => (origins.includes(origin) ? origin : null),
    allowMethods: ['POST', 'OPTIONS'],
    allowHeaders: ['Content-Type', 'X-Namespace', 'Authorization', 'Authorization-Extras', 'X-Causeway-Workflow-Id'],
    credentials: true,
    maxAge: 600,
  });
}

/**
 * Cookies: the UI (e.g. localhost:8233) and the API (localhost:3000) differ in port only, which makes them the
 * same site: SameSite=Lax cookies go along with the UI's credentialed fetch, over plain http. Over https the UI
 * may live on another site, which needs SameSite=None, allowed only with Secure.
 */
function cookieScope(c: Context<AppEnv>) {
  const https = new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
  return https ? { secure: true, sameSite: 'None' as const } : { sameSite: 'Lax' as const };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function signInPage(
  c: Context<AppEnv>,
  state: { operator: Operator } | { error: string } | null,
  status: 200 | 401 = 200,
) {
  c.header(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  );
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Cache-Control', 'no-store');
  const message = !state
    ? ''
    : 'error' in state
      ? `<p id="status" class="error">${escapeHtml(state.error)}</p>`
      : `<p id="status" class="ok">Signed in as ${escapeHtml(state.operator.name)} (${state.operator.role}, tenant ${escapeHtml(state.operator.tenantSlug)}).
       ${hasRole(state.operator.role, 'SUPERVISOR') ? 'The Temporal Web UI can now decode payloads through this API.' : 'Your role cannot decode payloads: the Web UI will show them encrypted.'}</p>`;
  return c.html(
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Causeway · codec sign-in</title>
<style>body{font:14px/1.5 system-ui,sans-serif;max-width:560px;margin:48px auto;padding:0 16px;color:#1d2433}
input{padding:7px 10px;border:1px solid #d9dee8;border-radius:6px;width:100%;box-sizing:border-box;margin:8px 0}
button{padding:7px 14px;border:0;border-radius:6px;background:#2f6fde;color:#fff;cursor:pointer}.error{color:#b3261e}.ok{color:#1e7a3a}
code{background:#eef0f5;padding:1px 4px;border-radius:4px}</style></head>
<body><h1>Read encrypted Temporal payloads</h1>
<p>Sign in with your Causeway API key. SUPERVISOR and ADMIN keys can decode; every decode is audited.</p>
${message}
<form method="post" action="/codec/session"><label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="off" placeholder="cw_…" required>
<button id="sign-in" type="submit">Sign in</button></form>
<form method="post" action="/codec/sign-out"><p><button id="sign-out" type="submit">Sign out</button></p></form>
<p>In the Web UI, under <em>Codec Server</em>, enable <em>Include cross-origin credentials</em> (with the endpoint
<code>${escapeHtml(new URL(c.req.url).origin)}/codec</code> and <em>Use my browser setting</em>), so the UI sends this session.</p>
</body></html>`,
    status,
  );
}
