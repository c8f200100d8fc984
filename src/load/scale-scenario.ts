/** `--time-scale`: every duration of a scenario multiplied by F (rates stay), as one pure function. */
import type { ScenarioSpec } from './types.ts';

export function scale(s: ScenarioSpec, f: number): ScenarioSpec {
  if (f === 1) return s;
  const base = { ...s, startTime: s.startTime * f, gracefulStop: s.gracefulStop * f };
  switch (base.executor) {
    case 'constant-arrival-rate':
    case 'constant-vus':
      return { ...base, duration: base.duration * f };
    case 'ramping-arrival-rate':
      return { ...base, stages: base.stages.map((st) => ({ duration: st.duration * f, target: st.target })) };
    case 'ramping-vus':
      return {
        ...base,
        gracefulRampDown: base.gracefulRampDown * f,
        stages: base.stages.map((st) => ({ duration: st.duration * f, target: st.target })),
      };
    default:
      return { ...base, maxDuration: base.maxDuration * f };
  }
}
