/** constant-vus (k6 lib/executor/constant_vus.go): `vus` VUs loop for `duration`. */
import type { ConstantVus } from '../types.ts';
import type { VuExecutor } from './executor.ts';

export const constantVus: VuExecutor<ConstantVus> = {
  name: 'constant-vus',
  kind: 'vus',
  keys: ['vus', 'duration'],
  read(f, common) {
    const vus = f.int('vus', { def: 1, min: 1 });
    const duration = f.dur('duration', { min: 1 });
    return { ...common, executor: 'constant-vus', vus, duration };
  },
  steps: (s) => [
    [0, s.vus],
    [s.duration, 0],
  ],
  peakVus: (s) => s.vus,
};
