/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import { securityHeaders } from './layout';
import type { ConsoleContext } from './session';

/**
 * Live regions: a page embeds `<Live src="/console/live/…" version={v}>…</Live>`; /console/static/console.js asks
 * `src?v=<version>` every few seconds. The endpoint answers 204 (no body, one small query) while the version is
 * unchanged, else the region's new HTML with its version in `X-Live-Version`, which the script swaps in.
 */
export function Live(props: { id: string; src: string; version: string; children?: Child }) {
  return (
    <div id={props.id} class="live" data-live={props.src} data-live-version={props.version}>
      {props.children}
    </div>
  );
}

export async function liveFragment(
  c: ConsoleContext,
  version: () => Promise<string>,
  render: () => Promise<Child> | Child,
) {
  securityHeaders(c);
  const current = await version();
  if (c.req.query('v') === current) return c.body(null, 204);
  c.header('X-Live-Version', current);
  return c.html(<>{await render()}</>);
}
