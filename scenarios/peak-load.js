// Peak load on service A: a ramping arrival rate that pushes A past its capacity and back down.
//
// This is a plain k6 script: `k6 run scenarios/peak-load.js` runs it unchanged on a real mesh.
// Spillover's embedded driver reads the same exported `options` and `requests` (plain data), so the
// schedule means the same thing on a laptop and on real clusters. Keep the default function a loop
// over `requests`: logic the embedded driver cannot see must be run with `--engine k6`.
import http from 'k6/http';

const TARGET = __ENV.TARGET || 'http://a.istio.svc.cluster.local';
// Knobs for sweeps (`--set load.env.PEAK_RATE=400`): the peak and base arrival rates, per second.
const PEAK = Number(__ENV.PEAK_RATE || 250);
const BASE = Number(__ENV.BASE_RATE || 20);

export const requests = [
  { method: 'GET', url: `${TARGET}/work`, headers: { 'x-spillover-scenario': 'peak' } },
];

export const options = {
  scenarios: {
    peak: {
      executor: 'ramping-arrival-rate',
      startRate: BASE,
      timeUnit: '1s',
      preAllocatedVUs: 100,
      maxVUs: 1000,
      stages: [
        { duration: '10s', target: BASE }, // warm-up well under A's capacity
        { duration: '20s', target: PEAK }, // ramp past A's capacity
        { duration: '20s', target: PEAK }, // peak
        { duration: '20s', target: BASE }, // back down
        { duration: '50s', target: BASE }, // long tail: A returns after its ejection ends
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
