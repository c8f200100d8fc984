// Istio's multicluster verification (setup/install/multicluster/verify): call helloworld from
// cluster1 over and over; the answers should come from v1 (cluster1) and v2 (cluster2) alike.
// The task loops `curl helloworld.sample:5000/hello`; here a steady 20 requests/s for 10 s.
import http from 'k6/http';

const TARGET = __ENV.TARGET || 'http://helloworld.sample.svc.cluster.local:5000';

export const requests = [{ method: 'GET', url: `${TARGET}/hello` }];

export const options = {
  scenarios: {
    verify: {
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
