// The warm-up server (warm-up.ts) on a worker thread of its own: a service behind Envoy, as far as the
// driver can tell — identity headers, now and then an overloaded 503, no Keep-Alive header.
// Plain JavaScript on purpose: a worker that needs no TypeScript loader starts in ~65 ms, one that
// registers tsx first in ~290 ms (measured on this machine), and the driver thread starts it twice.
import http from 'node:http';
import { parentPort } from 'node:worker_threads';

let n = 0;
const server = http.createServer((req, res) => {
  n++;
  req.resume();
  res.setHeader('server', 'envoy');
  res.setHeader('content-type', 'text/plain');
  res.setHeader('x-spillover-service', n % 2 ? 'A' : 'B');
  res.setHeader('x-spillover-instance', n % 2 ? 'a-0' : 'b-0');
  if (n % 50 === 0) res.writeHead(503, { 'x-envoy-overloaded': 'true' });
  res.end('ok\n');
});
server.keepAliveTimeout = 0;
server.listen(0, '127.0.0.1', () => parentPort?.postMessage(server.address().port));
