/**
 * Keep-alive connections to one origin, one undici Client (one socket, no pipelining) per request in
 * flight, the way each k6 VU has its own connection. A request always goes straight to the wire on an
 * idle connection or a new one; nothing queues inside the driver, so the latency it records is the
 * target's, not a pool's. (undici's Pool would queue behind busy connections once it reached its
 * connection limit, and grows one connection per dispatch that finds them all busy — at the start of a
 * fast run that is a storm of handshakes; see preconnect.ts.)
 *
 * Idle connections are reused last-in first-out, so a steady load keeps a small hot set and the rest
 * age out with keepAliveTimeout.
 */
import { Client, type Dispatcher } from 'undici';
import { WarmConnector } from './preconnect.ts';

export class OriginConnections {
  private readonly idle: Client[] = [];
  private readonly all = new Set<Client>();
  private readonly connector: WarmConnector;
  private readonly servername?: string;

  constructor(
    readonly origin: string,
    connectTimeoutMs: number,
  ) {
    const url = new URL(origin);
    this.servername = url.protocol === 'https:' ? url.hostname : undefined;
    this.connector = new WarmConnector({ timeout: connectTimeoutMs, ...(this.servername ? { servername: this.servername } : {}) });
  }

  /** Opens up to `count` sockets before the run (see preconnect.ts). */
  preconnect(count: number): Promise<number> {
    return this.connector.fill(new URL(this.origin), count, this.servername);
  }

  /** Sends on an idle connection (or a new one); hand the returned client back with release() when the response has ended. */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): Client {
    let client = this.idle.pop();
    while (client && (client.destroyed || client.closed)) {
      this.all.delete(client);
      client = this.idle.pop();
    }
    if (!client) {
      client = new Client(this.origin, {
        pipelining: 1,
        keepAliveTimeout: 30_000,
        headersTimeout: 0,
        bodyTimeout: 0,
        connect: this.connector.connect,
      });
      this.all.add(client);
    }
    client.dispatch(options, handler);
    return client;
  }

  release(client: Client): void {
    this.idle.push(client);
  }

  /** Closes a connection instead of keeping it (fortio after an error response); the next request opens a new one. */
  discard(client: Client): void {
    this.all.delete(client);
    client.close().catch(() => undefined);
  }

  /** Connections open or opening, for the record. */
  get size(): number {
    return this.all.size;
  }

  async destroy(): Promise<void> {
    this.connector.close();
    const clients = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(clients.map((c) => c.destroy().catch(() => undefined)));
  }
}
