/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';
import type { Operator } from '../../db/operators/users';
import { hasRole, type Role } from '../../domain/api-keys';
import { takeFlash, type ConsoleContext } from './session';

/**
 * The console's navigation: one entry per page, shown to operators of `role` or above. A helper adding a page adds
 * its entry here (order = order in the bar).
 */
export const NAV: { href: string; label: string; role: Role }[] = [
  { href: '/console', label: 'Queue', role: 'AGENT' },
  { href: '/console/mine', label: 'Mine', role: 'AGENT' },
  { href: '/console/search', label: 'Search', role: 'AGENT' },
  { href: '/console/outreach', label: 'Outreach', role: 'AGENT' },
  { href: '/console/reports', label: 'Reports', role: 'SUPERVISOR' },
  { href: '/console/alerts', label: 'Alerts', role: 'SUPERVISOR' },
  { href: '/console/failures', label: 'AI failures', role: 'SUPERVISOR' },
  { href: '/console/orphans', label: 'Orphans', role: 'SUPERVISOR' },
  { href: '/console/agents', label: 'Agents', role: 'SUPERVISOR' },
  { href: '/console/admin/prompts', label: 'Prompts', role: 'ADMIN' },
  { href: '/console/admin/users', label: 'Users', role: 'ADMIN' },
  { href: '/console/admin/departments', label: 'Departments', role: 'ADMIN' },
  { href: '/console/admin/desk', label: 'Desk', role: 'ADMIN' },
  { href: '/console/admin/templates', label: 'Templates', role: 'ADMIN' },
  { href: '/console/admin/audit', label: 'Audit log', role: 'ADMIN' },
];

/** The one Content-Security-Policy of every console page: no inline script or style, only /console/static/*. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "media-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function securityHeaders(c: ConsoleContext) {
  c.header('Content-Security-Policy', CONSOLE_CSP);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'same-origin');
  c.header('Cache-Control', 'no-store');
}

/** The hidden CSRF field every POST form must carry (the session middleware refuses a POST without it). */
export const Csrf = ({ c }: { c: ConsoleContext }) => <input type="hidden" name="_csrf" value={c.get('csrf')} />;

/** A POST form with its CSRF field: `<ActionForm c={c} action="/console/…">…</ActionForm>`. */
export function ActionForm(props: { c: ConsoleContext; action: string; class?: string; children?: Child }) {
  return (
    <form method="post" action={props.action} class={props.class ?? 'inline'}>
      <Csrf c={props.c} />
      {props.children}
    </form>
  );
}

/** A table's header row: one `<th>` per column name ('' for a column of actions). */
export const TableHead = ({ cols }: { cols: string[] }) => (
  <thead>
    <tr>
      {cols.map((col) => (
        <th>{col}</th>
      ))}
    </tr>
  </thead>
);

function Document(props: { title: string; children?: Child }) {
  return (
    <>
      {raw('<!doctype html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${props.title} · Causeway console`}</title>
          <link rel="icon" href="/console/static/favicon.svg" type="image/svg+xml" />
          <link rel="stylesheet" href="/console/static/console.css" />
          <script src="/console/static/console.js" defer></script>
        </head>
        {props.children}
      </html>
    </>
  );
}

function Nav({ c, operator }: { c: ConsoleContext; operator: Operator }) {
  const here = c.req.path.replace(/\/+$/, '') || '/console';
  return (
    <header class="bar">
      <a class="brand" href="/console">
        Causeway
      </a>
      <nav>
        {NAV.filter((n) => hasRole(operator.role, n.role)).map((n) => (
          <a href={n.href} class={here === n.href ? 'current' : undefined}>
            {n.label}
          </a>
        ))}
      </nav>
      <div class="who">
        <span id="operator">
          {operator.name} · {operator.role}
          {operator.department ? ` · ${operator.department}` : ''}
        </span>
        <ActionForm c={c} action="/console/sign-out">
          <button id="sign-out" type="submit" class="link">
            Sign out
          </button>
        </ActionForm>
      </div>
    </header>
  );
}

/** A signed-in page: nav for the operator's role, the flash message of the last action, then `children`. */
export function page(c: ConsoleContext, title: string, children: Child, status: 200 | 403 | 404 = 200) {
  securityHeaders(c);
  const notice = takeFlash(c);
  return c.html(
    <Document title={title}>
      <body>
        <Nav c={c} operator={c.get('operator')} />
        <main>
          {notice && (
            <p id="flash" class={`flash ${notice.kind}`} role="status">
              {notice.text}
            </p>
          )}
          {children}
        </main>
      </body>
    </Document>,
    status,
  );
}

export const notFoundPage = (c: ConsoleContext, what = 'page') =>
  page(
    c,
    'Not found',
    <section>
      <h1>Not found</h1>
      <p id="not-found">{`No such ${what}, or it is not visible to you.`}</p>
    </section>,
    404,
  );

/** The sign-in page (no session yet). */
export function signInPage(c: ConsoleContext, error: string | null, status: 200 | 401 = 200) {
  securityHeaders(c);
  return c.html(
    <Document title="Sign in">
      <body class="sign-in">
        <main>
          <h1>Causeway console</h1>
          <p>Sign in with your operator API key.</p>
          {error && (
            <p id="flash" class="flash error" role="alert">
              {error}
            </p>
          )}
          <form method="post" action="/console/sign-in">
            <label for="key">API key</label>
            <input id="key" name="key" type="password" autocomplete="off" placeholder="cw_…" required />
            <button id="sign-in" type="submit">
              Sign in
            </button>
          </form>
        </main>
      </body>
    </Document>,
    status,
  );
}

/** "3 min", "2 h 5 min", "1 d 4 h": how long something has waited. */
export function waited(since: Date | string | null, now = new Date()): string {
  if (!since) return '—';
  const s = Math.max(0, Math.round((now.getTime() - new Date(since).getTime()) / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Desk SLA (issue 20 C): the time left to the deadline, or how long it is overdue. */
export function slaLeft(due: Date | string | null, now = new Date()): string {
  if (!due) return '—';
  const ms = new Date(due).getTime() - now.getTime();
  return ms >= 0 ? `${waited(new Date(now.getTime() - ms), now)} left` : `overdue ${waited(due, now)}`;
}

export const time = (d: Date | string | null) =>
  d ? (
    <time datetime={new Date(d).toISOString()}>{new Date(d).toISOString().replace('T', ' ').slice(0, 19)}</time>
  ) : (
    '—'
  );
