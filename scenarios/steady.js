// A steady caller: a constant arrival rate for the whole run (RATE per second, DURATION long).
import http from 'k6/http';

const TARGET = __ENV.TARGET || 'http://a.istio.svc.cluster.local';
const RATE = Number(__ENV.RATE || 20);

export const options = {
  scenarios: {
    steady: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: __ENV.DURATION || '120s',
      preAllocatedVUs: 20,
      maxVUs: 200,
      gracefulStop: '5s',
    },
  },
};

export default function () {
  http.get(`${TARGET}/work`, { headers: { 'x-spillover-scenario': 'steady' } });
}
