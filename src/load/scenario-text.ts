/**
 * A scenario script's text. Refuses a FIFO, device, directory, UTF-16 or binary file without blocking
 * (util/read-text-input.ts); a missing one gets a guess: a close name, or the file under scenarios/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isSpilloverError, SpilloverError } from '../errors.ts';
import { similarFile } from '../experiment/did-you-mean.ts';
import { readTextInput } from '../util/read-text-input.ts';

export function readScenarioText(file: string, rel = path.relative(process.cwd(), file) || file): string {
  try {
    return readTextInput(file, 'scenario script');
  } catch (e) {
    if (!isSpilloverError(e) || fs.existsSync(file)) throw e;
    const inScenarios = path.join('scenarios', `${path.basename(rel, '.js')}.js`);
    const guess = similarFile(rel) ?? (fs.existsSync(inScenarios) && inScenarios !== rel ? inScenarios : similarFile(inScenarios));
    throw new SpilloverError(
      e.problems.map((p) => ({ ...p, fix: guess ? `did you mean ${guess}?` : 'check the path (scenarios live in scenarios/*.js)' })),
    );
  }
}
