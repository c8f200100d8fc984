// Four closed-loop callers of httpbin's /status/200 through the ingress gateway (Host: httpbin.example.com).
import http from 'k6/http';

const TARGET = __ENV.TARGET || 'http://httpbin.example.com';

export const requests = [{ method: 'GET', url: `${TARGET}/status/200` }];

export const options = { scenarios: { callers: { executor: 'constant-vus', vus: 4, duration: '3s', gracefulStop: '1s' } } };

export default function () {
  for (const r of requests) http.request(r.method, r.url, r.body || null, { headers: r.headers });
}
