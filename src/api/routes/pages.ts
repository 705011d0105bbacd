import fs from 'node:fs';
import { Hono } from 'hono';
import type { AppEnv } from '../context';

const journeyPage = fs.readFileSync(new URL('../pages/journey.html', import.meta.url), 'utf8');

/** O3: a small operator page (no build step) on top of the JSON API; it asks for the operator's API key. */
export function pageRoutes() {
  return new Hono<AppEnv>().get('/journey', (c) => {
    c.header(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
    );
    c.header('X-Content-Type-Options', 'nosniff');
    return c.html(journeyPage);
  });
}
