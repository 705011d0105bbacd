import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { findOperatorBySession } from '../../db/operators/sessions';
import type { Operator } from '../../db/operators/users';
import { hasRole, type Role } from '../../domain/api-keys';
import { noteAudit } from '../audit';
import type { AppEnv } from '../context';

/** The console's session cookie (path /console; the codec's own cookie is separate and scoped to /codec). */
export const CONSOLE_COOKIE = 'causeway_console';
const FLASH_COOKIE = 'causeway_console_flash';
export const CONSOLE_SESSION_TTL_MS = 8 * 60 * 60 * 1000;

export type ConsoleEnv = AppEnv & {
  Variables: AppEnv['Variables'] & {
    /** The per-session CSRF token every POST form carries (hidden field `_csrf`), checked before any handler runs. */
    csrf: string;
    /** The parsed form of a POST (already CSRF-checked). */
    form: Record<string, string>;
  };
};
export type ConsoleContext = Context<ConsoleEnv>;

const isHttps = (c: Context) =>
  new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

/**
 * The CSRF token is derived from the session's secret token (SHA-256 of a label and the token): it is per
 * session, never stored, and unknowable to another site, which cannot read the HttpOnly cookie.
 */
export const csrfTokenFor = (sessionToken: string) =>
  createHash('sha256').update(`causeway-console-csrf:${sessionToken}`).digest('base64url');

function sameToken(a: string, b: string) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function setSessionCookie(c: Context, token: string) {
  setCookie(c, CONSOLE_COOKIE, token, {
    path: '/console',
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c),
    maxAge: CONSOLE_SESSION_TTL_MS / 1000,
  });
}

export function clearSessionCookie(c: Context) {
  deleteCookie(c, CONSOLE_COOKIE, { path: '/console', secure: isHttps(c), sameSite: 'Strict', httpOnly: true });
}

export const sessionToken = (c: Context) => getCookie(c, CONSOLE_COOKIE);

/** A one-shot message shown on the next page (after a POST → redirect). */
export function flash(c: Context, kind: 'ok' | 'error', text: string) {
  setCookie(c, FLASH_COOKIE, `${kind}:${encodeURIComponent(text.slice(0, 600))}`, {
    path: '/console',
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c),
    maxAge: 60,
  });
}

export function takeFlash(c: Context): { kind: 'ok' | 'error'; text: string } | null {
  const raw = getCookie(c, FLASH_COOKIE);
  if (!raw) return null;
  deleteCookie(c, FLASH_COOKIE, { path: '/console', secure: isHttps(c), sameSite: 'Strict', httpOnly: true });
  const [kind, ...rest] = raw.split(':');
  try {
    return { kind: kind === 'ok' ? 'ok' : 'error', text: decodeURIComponent(rest.join(':')) };
  } catch {
    return null;
  }
}

/** POST → redirect → GET, with a flash message. */
export function done(c: Context, to: string, kind: 'ok' | 'error', text: string) {
  flash(c, kind, text);
  // The answer is a 303 either way: the audit record learns from here whether the action was refused.
  if (kind === 'error') noteAudit(c, { outcome: 'rejected' });
  return c.redirect(to, 303);
}

/**
 * A browser POST names its origin; one from another site is refused (login CSRF on the sign-in form, which has no
 * session yet, and a second check besides the token everywhere else). No Origin (curl, old browsers): allowed.
 */
export function crossSiteOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  if (!origin || origin === 'null') return origin === 'null';
  const host = c.req.header('x-forwarded-host') ?? c.req.header('host') ?? new URL(c.req.url).host;
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

/**
 * Every console request after sign-in: a live session (else to the sign-in page; fragments and the media proxy get
 * 401), and on every POST a form whose `_csrf` matches the session's token (else 403; nothing runs). SameSite=Strict
 * on the cookie is the first line, the token the second.
 */
export function consoleSession(deps: { db: Parameters<typeof findOperatorBySession>[0] }) {
  return createMiddleware<ConsoleEnv>(async (c, next) => {
    const token = sessionToken(c);
    const operator = token ? await findOperatorBySession(deps.db, token) : null;
    if (!token || !operator) {
      if (c.req.method === 'GET' && c.req.header('x-console-live') !== '1' && !c.req.path.startsWith('/console/media/'))
        return c.redirect('/console/sign-in', 303);
      return c.text('sign in again', 401);
    }
    const csrf = csrfTokenFor(token);
    c.set('operator', operator);
    c.set('csrf', csrf);
    c.set('log', c.get('log').child({ operator: operator.id }));
    if (c.req.method === 'POST') {
      if (crossSiteOrigin(c)) return c.text('cross-site request refused', 403);
      const body = await c.req.parseBody();
      const form: Record<string, string> = {};
      for (const [k, v] of Object.entries(body)) if (typeof v === 'string') form[k] = v;
      if (!form._csrf || !sameToken(form._csrf, csrf)) return c.text('invalid or missing CSRF token', 403);
      c.set('form', form);
    }
    await next();
  });
}

/**
 * A console request refused as "not found" (the console does not say what exists). Thrown by the guards; the
 * composition root (index.tsx) renders the page, so the session code renders none.
 */
export class ConsoleNotFound extends Error {
  override readonly name = 'ConsoleNotFound';
}

/** Pages and actions above AGENT: a lower role gets 404. */
export function requireConsoleRole(role: Role) {
  return createMiddleware<ConsoleEnv>(async (c, next) => {
    if (!hasRole(c.get('operator').role, role)) throw new ConsoleNotFound('below the required role');
    await next();
  });
}

export const operatorOf = (c: ConsoleContext): Operator => c.get('operator');
