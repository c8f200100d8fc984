// Istio's circuit-breaking task (tasks/traffic-management/circuit-breaking): fortio against httpbin
// with a 1/1/1 connection pool, first `-c 2 -qps 0 -n 20`, then `-c 3 -qps 0 -n 30`.
//
// fortio sends a fixed number of requests over c closed-loop connections. A fixed count needs k6's
// shared-iterations executor, which the embedded driver does not run yet (the k6 VU runtime issue
// brings it); until then each phase is c closed-loop VUs (constant-vus) for a fixed time, which
// keeps what the task shows: two callers mostly fit the pool, three overflow it.
import http from 'k6/http';

const TARGET = __ENV.TARGET || 'http://httpbin.default.svc.cluster.local:8000';

export const requests = [{ method: 'GET', url: `${TARGET}/get` }];

export const options = {
  scenarios: {
    c2: { executor: 'constant-vus', vus: 2, duration: '3s', gracefulStop: '1s' },
    c3: { executor: 'constant-vus', vus: 3, duration: '3s', startTime: '4s', gracefulStop: '1s' },
  },
};

export default function () {
  for (const r of requests) http.request(r.method, r.url, r.body || null, { headers: r.headers });
}
