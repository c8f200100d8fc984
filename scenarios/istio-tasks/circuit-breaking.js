// Istio's circuit-breaking task (tasks/traffic-management/circuit-breaking): fortio against httpbin
// with a 1/1/1 connection pool, first `-c 2 -qps 0 -n 20`, then `-c 3 -qps 0 -n 30`.
//
// fortio sends a fixed number of requests over c closed-loop connections: k6's shared-iterations
// (`vus` callers share `iterations`), run by the k6 VU runtime. Each phase ends within a few tens of
// milliseconds; maxDuration only bounds it, and the second starts after the first's bound has passed.
import http from 'k6/http';

const TARGET = __ENV.TARGET || 'http://httpbin.default.svc.cluster.local:8000';

export const options = {
  scenarios: {
    c2: { executor: 'shared-iterations', vus: 2, iterations: 20, maxDuration: '2s', gracefulStop: '0s' },
    c3: { executor: 'shared-iterations', vus: 3, iterations: 30, maxDuration: '2s', startTime: '3s', gracefulStop: '0s' },
  },
};

export default function () {
  http.get(`${TARGET}/get`);
}
