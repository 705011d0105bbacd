import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

/**
 * Serves one PGlite database over the Postgres wire protocol to several client connections.
 *
 * PGlite is a single backend session, so the connections must never interleave inside one exchange: a client's
 * messages are passed through only while it holds the session lock, which it keeps from its first message until
 * a Sync or simple Query completes with no transaction open. (pglite-socket queued individual messages, so two
 * clients' Parse/Bind pairs could interleave and fail with "bind message supplies N parameters".)
 * Clients must use unnamed statements (postgres.js `prepare: false`): named ones would share one namespace.
 */
export class PGliteServer {
  private server: net.Server | null = null;
  private owner: Connection | null = null;
  private waiters: { conn: Connection; resolve: () => void }[] = [];
  private readonly connections = new Set<Connection>();

  constructor(private readonly db: PGlite) {}

  async listen(port = 0, host = '127.0.0.1'): Promise<{ host: string; port: number }> {
    this.server = net.createServer((socket) => {
      const conn = new Connection(socket, this);
      this.connections.add(conn);
      socket.on('close', () => {
        this.connections.delete(conn);
        void this.release(conn, true);
      });
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const address = this.server.address() as net.AddressInfo;
    return { host, port: address.port };
  }

  async close(): Promise<void> {
    for (const conn of this.connections) conn.socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** @internal */
  async acquire(conn: Connection): Promise<void> {
    if (this.owner === conn) return;
    if (this.owner === null) {
      this.owner = conn;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push({ conn, resolve }));
  }

  /** @internal Releases the session unless the owner is mid-transaction (or force, when it disconnected). */
  async release(conn: Connection, disconnected = false): Promise<void> {
    if (this.owner !== conn) {
      this.waiters = this.waiters.filter((w) => w.conn !== conn);
      return;
    }
    if (this.db.isInTransaction()) {
      if (!disconnected) return;
      await this.db.exec('ROLLBACK');
    }
    const next = this.waiters.shift();
    this.owner = next ? next.conn : null;
    next?.resolve();
  }

  /** @internal */
  exec(message: Uint8Array, onData: (chunk: Uint8Array) => void): Promise<void> {
    return this.db.runExclusive(() => this.db.execProtocolRawStream(message, { onRawData: onData }));
  }
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

class Connection {
  private buffer = Buffer.alloc(0);
  private started = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly socket: net.Socket,
    private readonly server: PGliteServer,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      // Messages of one connection are handled strictly in order.
      this.chain = this.chain
        .then(() => this.drain())
        .catch(() => {
          socket.destroy();
        });
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (!this.started) {
        if (this.buffer.length < 8) return;
        const length = this.buffer.readInt32BE(0);
        if (this.buffer.length < length) return;
        const code = this.buffer.readInt32BE(4);
        const message = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          this.socket.write('N');
          continue;
        }
        if (code === CANCEL_REQUEST) {
          this.socket.end();
          return;
        }
        this.started = true;
        await this.run(message, true);
        continue;
      }
      if (this.buffer.length < 5) return;
      const length = this.buffer.readInt32BE(1) + 1;
      if (this.buffer.length < length) return;
      const type = String.fromCharCode(this.buffer[0]!);
      const message = this.buffer.subarray(0, length);
      this.buffer = this.buffer.subarray(length);
      if (type === 'X') {
        this.socket.end();
        return;
      }
      await this.run(message, type === 'S' || type === 'Q');
    }
  }

  private async run(message: Uint8Array, endsExchange: boolean): Promise<void> {
    await this.server.acquire(this);
    await this.server.exec(new Uint8Array(message), (chunk) => {
      if (chunk.length > 0 && this.socket.writable) this.socket.write(chunk);
    });
    if (endsExchange) await this.server.release(this);
  }
}
