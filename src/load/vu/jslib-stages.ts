/**
 * k6-utils' stage helpers and its async-aware check (jslib.k6.io/k6-utils ≥ 1.5), written from the
 * documented API: getCurrentStageIndex() is the stage of the scenario's `stages` the elapsed scenario
 * time falls in; tagWithCurrentStageIndex() sets the VU tag `stage` to it; tagWithCurrentStageProfile()
 * sets `stage_profile` to ramp-up / ramp-down / steady from the stage's target against the previous one.
 */
import { parseK6DurationSeconds } from '../../util/duration.ts';
import { makeK6 } from './k6-modules.ts';
import type { VuHost, VuState } from './vu-state.ts';

interface Stage {
  duration: string | number;
  target: number;
}

export function makeStageHelpers(host: VuHost, vu: VuState) {
  const stagesNow = (): { stages: Stage[]; index: number; start: number } => {
    const s = vu.scenario;
    if (!s) throw new Error('k6-utils: the stage helpers can only be used in VU code of a scenario');
    type Staged = { stages?: Stage[]; startVUs?: number; startRate?: number };
    const opts = host.execution.options as Staged & { vus?: number; scenarios?: Record<string, Staged> };
    // The `stages` shortcut is the scenario "default" (ramping-vus from `vus`), as k6 derives it.
    const sc =
      opts.scenarios?.[s.name] ?? (s.name === 'default' && opts.stages ? { stages: opts.stages, startVUs: opts.vus ?? 1 } : undefined);
    if (!sc?.stages?.length) throw new Error(`k6-utils: scenario "${s.name}" (${s.executor}) has no stages`);
    // The schedule runs on the time scale; the stages in the options are the script's own durations.
    const elapsed = (Date.now() - s.startMs) / (host.timeScale ?? 1);
    let end = 0;
    let index = sc.stages.length - 1;
    for (let i = 0; i < sc.stages.length; i++) {
      // The script's own stage duration, in k6's dialect (a number is ms); validated when the script loaded.
      end += (parseK6DurationSeconds(sc.stages[i].duration) ?? 0) * 1000;
      if (elapsed < end) {
        index = i;
        break;
      }
    }
    return { stages: sc.stages, index, start: sc.startVUs ?? sc.startRate ?? 0 };
  };
  const getCurrentStageIndex = () => stagesNow().index;
  const k6 = makeK6(host, vu);
  return {
    getCurrentStageIndex,
    tagWithCurrentStageIndex: () => {
      vu.tags.stage = String(getCurrentStageIndex());
    },
    tagWithCurrentStageProfile: () => {
      const { stages, index, start } = stagesNow();
      const prev = index === 0 ? start : Number(stages[index - 1].target);
      const cur = Number(stages[index].target);
      vu.tags.stage_profile = cur > prev ? 'ramp-up' : cur < prev ? 'ramp-down' : 'steady';
    },
    check: k6.check,
  };
}
