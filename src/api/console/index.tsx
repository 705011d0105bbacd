/** @jsxImportSource hono/jsx */
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { createOperatorSession, revokeOperatorSession } from '../../db/operators/sessions';
import { setPresence } from '../../db/conversations/desk';
import { findOperatorByApiKey } from '../../db/operators/users';
import { noteAudit } from '../audit';
import type { AppDeps } from '../context';
import { adminPages } from './admin';
import { agentPages } from './agent';
import { auditPages } from './audit';
import { whyPages } from './why';
import { draftPages, draftPanel } from './drafts';
import { deskAdminPages } from './desk-admin';
import { deskPages, notesPanel, cannedPicker } from './desk';
import { reportPages } from './reports';
import { notFoundPage, signInPage } from './layout';
import {
  clearSessionCookie,
  consoleSession,
  crossSiteOrigin,
  CONSOLE_SESSION_TTL_MS,
  ConsoleNotFound,
  sessionToken,
  setSessionCookie,
  type ConsoleEnv,
} from './session';
import { supervisorPages } from './supervisor';

/** Registered sections: each adds its pages and actions to the signed-in console app (see console-framework.md). */
const SECTIONS: ((app: Hono<ConsoleEnv>, deps: AppDeps) => void)[] = [
  (app, deps) => agentPages(app, deps, [draftPanel, notesPanel, cannedPicker]),
  supervisorPages,
  adminPages,
  auditPages,
  draftPages,
  deskAdminPages,
  deskPages,
  reportPages,
  whyPages,
];

const STATIC: Record<string, { type: string; body: string; etag: string }> = Object.fromEntries(
  (
    [
      ['console.js', 'text/javascript; charset=utf-8'],
      ['console.css', 'text/css; charset=utf-8'],
      ['favicon.svg', 'image/svg+xml'],
    ] as const
  ).map(([name, type]) => {
    const body = fs.readFileSync(new URL(`./static/${name}`, import.meta.url), 'utf8');
    return [name, { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` }];
  }),
);

/**
 * The operator console (issue 13): server-rendered pages (hono/jsx) behind a session cookie. Sign-in takes an
 * operator API key and starts an operator_sessions row; the cookie is HttpOnly, SameSite=Strict, Secure over https,
 * path /console, 8 h. Every POST carries the session's CSRF token.
 */
export function consoleRoutes(deps: AppDeps) {
  const app = new Hono<ConsoleEnv>();

  app.get('/static/:name', (c) => {
    const file = STATIC[c.req.param('name')];
    if (!file) return c.text('not found', 404);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Cache-Control', 'no-cache');
    c.header('ETag', file.etag);
    if (c.req.header('if-none-match') === file.etag) return c.body(null, 304);
    return c.body(file.body, 200, { 'Content-Type': file.type });
  });

  app.get('/sign-in', (c) => signInPage(c, null));
  app.post('/sign-in', async (c) => {
    if (crossSiteOrigin(c)) return c.text('cross-site request refused', 403);
    const form = await c.req.parseBody();
    const key = typeof form.key === 'string' ? form.key.trim() : '';
    const operator = key ? await findOperatorByApiKey(deps.db, key) : null;
    if (!operator) return signInPage(c, 'That API key is not valid (or was revoked).', 401);
    const old = sessionToken(c);
    if (old) await revokeOperatorSession(deps.db, old);
    // Rotation: a sign-in always makes a new session (new random token) and revokes the one the browser held.
    const session = await createOperatorSession(deps.db, operator, CONSOLE_SESSION_TTL_MS);
    setSessionCookie(c, session.token);
    c.set('operator', operator);
    noteAudit(c, { action: 'console.sign_in', targetType: 'key', targetId: operator.keyId ?? undefined });
    c.get('log').info({ operator: operator.id, role: operator.role }, 'console session started');
    return c.redirect('/console', 303);
  });

  const signedIn = new Hono<ConsoleEnv>();
  signedIn.use('*', consoleSession(deps));
  signedIn.post('/sign-out', async (c) => {
    const token = sessionToken(c);
    if (token) await revokeOperatorSession(deps.db, token);
    // Issue 20 D: signing out ends the agent's availability (an expired session counts as offline by itself).
    const operator = c.get('operator');
    await setPresence(deps.db, operator.tenantId, operator.id, 'offline');
    clearSessionCookie(c);
    return c.redirect('/console/sign-in', 303);
  });
  for (const section of SECTIONS) section(signedIn, deps);
  signedIn.all('*', (c) => notFoundPage(c));
  // A guard's refusal becomes the console's 404 page here; any other error goes on to the API's onError.
  signedIn.onError((error, c) => {
    if (error instanceof ConsoleNotFound) return notFoundPage(c);
    throw error;
  });
  app.route('/', signedIn);
  return app;
}
