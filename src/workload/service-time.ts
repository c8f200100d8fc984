/**
 * Seeded service-time distributions. Mersenne Twister rather than pure-rand's xoroshiro: the latter's
 * first outputs for small integer seeds sit near 1.0, which would make the first request of every run
 * an extreme outlier.
 */
import { mersenne } from 'pure-rand/generator/mersenne';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { parseDurationMs } from '../util/duration.ts';
import { SpilloverError } from '../errors.ts';
import type { ServiceTime } from './config.ts';

/** Standard normal quantile at 0.99: turns (median, p99) into the lognormal's sigma. */
const Z99 = 2.3263478740408408;

/** Returns a function yielding successive service times in milliseconds, the same sequence for the same seed. */
export function serviceTimeSampler(spec: ServiceTime, seed: number): () => number {
  const rng = mersenne(seed);
  // 1 - u is in (0, 1], so the logarithms below never see 0.
  const open = () => 1 - uniformFloat64(rng);
  switch (spec.distribution) {
    case 'fixed': {
      const v = parseDurationMs(spec.value);
      return () => v;
    }
    case 'exponential': {
      const mean = parseDurationMs(spec.mean);
      return () => -mean * Math.log(open());
    }
    case 'lognormal': {
      const median = parseDurationMs(spec.median);
      const p99 = parseDurationMs(spec.p99);
      if (!(median > 0) || p99 < median) {
        throw new SpilloverError({
          path: 'capacity.serviceTime',
          message: 'a lognormal service time needs 0 < median <= p99',
          expected: 'median > 0 and p99 >= median',
          found: `median ${spec.median}, p99 ${spec.p99}`,
          fix: 'raise p99 or lower median',
        });
      }
      const mu = Math.log(median);
      const sigma = (Math.log(p99) - mu) / Z99;
      // Box-Muller; one normal per draw keeps the sequence a plain function of the call count.
      return () => Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(open())) * Math.cos(2 * Math.PI * uniformFloat64(rng)));
    }
  }
}
