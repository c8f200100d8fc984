// Istio's ingress gateway task (tasks/traffic-management/ingress/ingress-control): curl the gateway
// with Host: httpbin.example.com. /status/200 and /delay/1 are routed by the VirtualService (200);
// /headers is not (the gateway answers 404). Each iteration sends all three; 5 iterations/s for 6 s.
import http from 'k6/http';

const TARGET = __ENV.TARGET || 'http://httpbin.example.com';

export const requests = [
  { method: 'GET', url: `${TARGET}/status/200` },
  { method: 'GET', url: `${TARGET}/delay/1` },
  { method: 'GET', url: `${TARGET}/headers` },
];

export const options = {
  scenarios: {
    curl: {
      executor: 'constant-arrival-rate',
      rate: 5,
      timeUnit: '1s',
      duration: '6s',
      preAllocatedVUs: 2,
      maxVUs: 10,
      gracefulStop: '2s',
    },
  },
};

export default function () {
  for (const r of requests) http.request(r.method, r.url, r.body || null, { headers: r.headers });
}
