// Istio's locality failover task (tasks/traffic-management/locality-load-balancing/failover): the
// sleep pod in region1/zone1 calls helloworld in a loop while the harness drains one locality after
// the other (experiments/istio-tasks/locality-failover.yaml, faults:). 100 requests/s for 20 s.
import http from 'k6/http';

const TARGET = __ENV.TARGET || 'http://helloworld.sample.svc.cluster.local:5000';

export const requests = [{ method: 'GET', url: `${TARGET}/hello` }];

export const options = {
  scenarios: {
    loop: {
      executor: 'constant-arrival-rate',
      rate: 100,
      timeUnit: '1s',
      duration: '20s',
      preAllocatedVUs: 10,
      maxVUs: 50,
      gracefulStop: '2s',
    },
  },
};

export default function () {
  for (const r of requests) http.request(r.method, r.url, r.body || null, { headers: r.headers });
}
