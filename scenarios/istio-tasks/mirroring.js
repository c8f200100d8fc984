// Istio's mirroring task (tasks/traffic-management/mirroring): the sleep pod calls httpbin, whose
// VirtualService routes everything to v1 and mirrors it to v2. The task sends a few curls and reads
// v2's log; here a steady 20 requests/s for 10 s.
import http from 'k6/http';

const TARGET = __ENV.TARGET || 'http://httpbin.default.svc.cluster.local:8000';

export const requests = [{ method: 'GET', url: `${TARGET}/headers` }];

export const options = {
  scenarios: {
    mirror: {
      executor: 'constant-arrival-rate',
      rate: 20,
      timeUnit: '1s',
      duration: '10s',
      preAllocatedVUs: 4,
      maxVUs: 20,
      gracefulStop: '2s',
    },
  },
};

export default function () {
  for (const r of requests) http.request(r.method, r.url, r.body || null, { headers: r.headers });
}
