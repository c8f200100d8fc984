/**
 * Connections opened before scenario time zero. Without them the first due iterations of a run each
 * wait for a TCP (and TLS) handshake, dozens of handshakes pile up within a millisecond, the slot pool
 * fills and the first 100 ms of a fast run are late and drop iterations that the target never saw.
 * k6 pays the same cost per VU; we pay it before t0 instead, because the harness measures the target,
 * not its own start-up. Only connections are opened: the target sees no request outside the schedule.
 *
 * undici has no pre-connect API, but its `connect` option takes any connector: this one hands out the
 * pre-opened sockets first and then falls back to undici's own connector.
 */
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

export class WarmConnector {
  private readonly stash: Socket[] = [];
  private readonly base: buildConnector.connector;

  constructor(options: buildConnector.BuildOptions) {
    this.base = buildConnector(options);
  }

  /** The connector to give undici's Pool as `connect`. */
  readonly connect: buildConnector.connector = (opts, callback) => {
    for (let s = this.stash.pop(); s; s = this.stash.pop()) {
      s.removeListener('error', ignore);
      if (!s.destroyed && s.readyState === 'open') {
        // Waiting in the stash it must not keep the process alive; in use it is undici's to ref and unref.
        s.ref();
        queueMicrotask(() => callback(null, s));
        return;
      }
    }
    this.base(opts, callback);
  };

  /**
   * Opens `count` connections to `origin` (concurrently), with the options undici itself would pass.
   * A failure is not an error here: the target may not be up yet and undici will report it per request.
   */
  async fill(origin: URL, count: number, servername?: string): Promise<number> {
    const opts: buildConnector.Options = {
      host: origin.host,
      hostname: origin.hostname.replace(/^\[(.*)\]$/, '$1'),
      protocol: origin.protocol,
      port: origin.port || (origin.protocol === 'https:' ? '443' : '80'),
      ...(servername ? { servername } : {}),
    };
    const one = () =>
      new Promise<void>((resolve) => {
        this.base(opts, (err, socket) => {
          if (!err && socket) {
            socket.on('error', ignore);
            socket.unref();
            socket.once('close', () => {
              const i = this.stash.indexOf(socket);
              if (i >= 0) this.stash.splice(i, 1);
            });
            this.stash.push(socket);
          }
          resolve();
        });
      });
    await Promise.all(Array.from({ length: count }, one));
    return this.stash.length;
  }

  /** Closes the connections nobody took. */
  close(): void {
    for (const s of this.stash.splice(0)) s.destroy();
  }
}

const ignore = () => {};
