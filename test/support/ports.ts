import net from 'node:net';

/**
 * A block of `count` consecutive free ports (the cluster's Temporal services sit just above the frontend's
 * port), below Linux's ephemeral range (32768+) that other tests' port-0 listeners draw from.
 */
export async function freePortBlock(count: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p += 1) ok = await free(p);
    if (ok) return base;
  }
  throw new Error(`no block of ${count} free ports found`);
}
