/** The README keeps up with what ships: every experiment explained, every command listed, how to get the command. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { COMMANDS } from '../../src/cli/main.ts';

const README = fs.readFileSync('README.md', 'utf8');

describe('README', () => {
  it('lists every shipped experiment with a line on what it shows', () => {
    for (const f of fs.readdirSync('experiments').filter((x) => x.endsWith('.yaml'))) {
      const line = README.split('\n').find((l) => l.includes(`\`experiments/${f}\` --`));
      assert.ok(line, `experiments/${f} is listed as "- \`experiments/${f}\` -- what it shows"`);
    }
  });

  it('shows how to run the command: npx spillover and npm link', () => {
    assert.match(README, /npx spillover /);
    assert.match(README, /npm link/);
  });

  it('lists every command', () => {
    for (const n of COMMANDS) assert.match(README, new RegExp(`^spillover ${n}\\b`, 'm'), `spillover ${n} in the Commands block`);
  });
});
