import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  /** `127.0.0.1:<port>` of the proxy. */
  address: string;
  port: number;
  /** Simulates an outage: open connections are reset, new ones are accepted and reset at once. */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  close(): Promise<void>;
}

/**
 * A toggleable TCP proxy on loopback, placed between the API and Temporal or Postgres: `pause()` is what the
 * client sees when the server goes away (connections reset, reconnects refused), `resume()` is its return.
 * The listener stays bound while paused, so the address never changes hands.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let paused = false;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    if (paused) {
      client.resetAndDestroy();
      return;
    }
    track(client);
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.resetAndDestroy());
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => {
      if (!client.destroyed) client.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    get paused() {
      return paused;
    },
    pause() {
      paused = true;
      for (const socket of sockets) socket.resetAndDestroy();
      sockets.clear();
    },
    resume() {
      paused = false;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** host and port of `host:port` or of a URL (postgres://…). */
export function hostPort(addressOrUrl: string): { host: string; port: number } {
  if (addressOrUrl.includes('://')) {
    const url = new URL(addressOrUrl);
    return { host: url.hostname, port: Number(url.port || 5432) };
  }
  const [host, port] = addressOrUrl.split(':');
  return { host: host!, port: Number(port) };
}
