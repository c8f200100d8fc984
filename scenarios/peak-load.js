// Peak load on service A: a ramping arrival rate that pushes A past its capacity and back down.
//
// This is a plain k6 script: `k6 run scenarios/peak-load.js` runs it unchanged on a real mesh.
// Spillover's embedded driver reads the same exported `options` and `requests` (plain data), so the
// schedule means the same thing on a laptop and on real clusters. Keep the default function a loop
// over `requests`: logic the embedded driver cannot see must be run with `--engine k6`.
import http from 'k6/http';

const TARGET = __ENV.TARGET || 'http://a.istio.svc.cluster.local';

export const requests = [
  { method: 'GET', url: `${TARGET}/work`, headers: { 'x-spillover-scenario': 'peak' } },
];

export const options = {
  scenarios: {
    peak: {
      executor: 'ramping-arrival-rate',
      startRate: 20,
      timeUnit: '1s',
      preAllocatedVUs: 100,
      maxVUs: 1000,
      stages: [
        { duration: '10s', target: 20 },  // warm-up well under A's capacity
        { duration: '20s', target: 250 }, // ramp past A's capacity
        { duration: '20s', target: 250 }, // peak
        { duration: '20s', target: 20 },  // back down
        { duration: '50s', target: 20 },  // long tail: A returns after its ejection ends
      ],
      gracefulStop: '5s',
    },
  },
};

export default function () {
  for (const r of requests) {
    http.request(r.method, r.url, r.body || null, { headers: r.headers });
  }
}
