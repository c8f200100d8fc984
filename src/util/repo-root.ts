/** The checkout's root: where `.cache/`, `results/`, `scenarios/` and `experiments/` live by default. */
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
