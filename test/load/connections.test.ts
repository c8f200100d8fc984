import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { OriginConnections } from '../../src/load/connections.ts';

/** A server that counts connections and requests, and answers when told to. */
async function server() {
  const state = { connections: 0, open: 0, requests: 0, pending: [] as http.ServerResponse[] };
  const s = http.createServer((_req, res) => {
    state.requests++;
    state.pending.push(res);
  });
  s.on('connection', (sock) => {
    state.connections++;
    state.open++;
    sock.on('close', () => state.open--);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const answerAll = () => {
    for (const r of state.pending.splice(0)) r.end('ok');
  };
  return {
    origin: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    state,
    answerAll,
    close: async () => {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
  };
}

const until = async (cond: () => boolean, what: string) => {
  const end = Date.now() + 3000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

function request(conns: OriginConnections): Promise<number> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const handler = {
      onConnect() {},
      onHeaders(s: number) {
        status = s;
        return true;
      },
      onData() {
        return true;
      },
      onComplete() {
        conns.release(client);
        resolve(status);
      },
      onError(e: Error) {
        conns.release(client);
        reject(e);
      },
    };
    const client = conns.dispatch({ path: '/', method: 'GET', headers: ['host', 'x'] }, handler as unknown as Dispatcher.DispatchHandler);
  });
}

describe('load/connections: one connection per request in flight, opened ahead', () => {
  it('pre-opened connections carry the first requests (no request is sent to open them); more are opened only when all are busy', async () => {
    const srv = await server();
    const conns = new OriginConnections(srv.origin, 5000);
    try {
      assert.equal(await conns.preconnect(3), 3);
      await until(() => srv.state.connections === 3, '3 connections');
      assert.equal(srv.state.requests, 0, 'opening connections sends nothing');
      const first = [request(conns), request(conns), request(conns)];
      await until(() => srv.state.requests === 3, '3 requests');
      assert.equal(srv.state.connections, 3, 'the first three went out on the pre-opened connections');
      const fourth = request(conns);
      await until(() => srv.state.requests === 4, 'the 4th request');
      assert.equal(srv.state.connections, 4, 'a 4th request while 3 are busy gets a connection of its own, never a queue');
      srv.answerAll();
      assert.deepEqual(await Promise.all([...first, fourth]), [200, 200, 200, 200]);
      // Idle connections are reused: four sequential requests open nothing new.
      for (let i = 0; i < 4; i++) {
        const r = request(conns);
        await until(() => srv.state.pending.length === 1, 'a request');
        srv.answerAll();
        assert.equal(await r, 200);
      }
      assert.equal(srv.state.connections, 4);
      assert.equal(conns.size, 4);
    } finally {
      await conns.destroy();
    }
    await until(() => srv.state.open === 0, 'every connection closed by destroy()');
    await srv.close();
  });

  it('pre-opened connections nobody used are closed by destroy(), and a dead target is not an error ahead of the run', async () => {
    const srv = await server();
    const conns = new OriginConnections(srv.origin, 5000);
    await conns.preconnect(5);
    await until(() => srv.state.open === 5, '5 open connections');
    await conns.destroy();
    await until(() => srv.state.open === 0, 'all closed');
    await srv.close();
    const dead = new OriginConnections(srv.origin, 1000);
    assert.equal(await dead.preconnect(2), 0);
    await assert.rejects(request(dead), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
    await dead.destroy();
  });
});
