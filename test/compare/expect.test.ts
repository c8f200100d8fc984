import assert from 'node:assert/strict';
import { checkExpectations, formatExpectations } from '../../src/compare/expect.ts';
import { parseCondition } from '../../src/experiment/expect.ts';
import { SpilloverError } from '../../src/errors.ts';

const summary = {
  redirectedFraction: 0.25,
  servedBy: { A: 900, B: 300 },
  events: { firstEjectionS: 12.5, recoveryS: null },
};

describe('compare: expect conditions', () => {
  it('evaluates k6-style conditions on dotted summary fields', () => {
    const r = checkExpectations(
      {
        'events.firstEjectionS': ['!= null', '< 60', '> 20'],
        redirectedFraction: ['>= 0.25', '< 0.25'],
        'servedBy.B': ['> 0', '== 300'],
        'events.recoveryS': ['== null'],
      },
      summary,
    );
    assert.deepEqual(
      r.map((x) => [x.field, x.condition, x.ok]),
      [
        ['events.firstEjectionS', '!= null', true],
        ['events.firstEjectionS', '< 60', true],
        ['events.firstEjectionS', '> 20', false],
        ['redirectedFraction', '>= 0.25', true],
        ['redirectedFraction', '< 0.25', false],
        ['servedBy.B', '> 0', true],
        ['servedBy.B', '== 300', true],
        ['events.recoveryS', '== null', true],
      ],
    );
    assert.equal(r[0].actual, 12.5);
  });

  it('a deadline on an event that did not happen fails', () => {
    const [r] = checkExpectations({ 'events.recoveryS': ['< 60'] }, summary);
    assert.equal(r.ok, false);
    assert.equal(r.actual, null);
    assert.match(formatExpectations([r]), /\(actual: never\)/);
    assert.doesNotMatch(formatExpectations([r]), /null|NaN/);
  });

  it('a field missing from the summary fails and says so', () => {
    const [r] = checkExpectations({ 'events.fistEjectionS': ['!= null'] }, summary);
    assert.equal(r.ok, false);
    assert.equal(r.actual, undefined);
    assert.match(formatExpectations([r]), /no such field/);
  });

  it('accepts spacing, exponents and === / !== spellings', () => {
    assert.deepEqual(parseCondition('  >=1e-2 '), { text: '>=1e-2', op: '>=', value: 0.01 });
    assert.equal(parseCondition('!== null').op, '!=');
    assert.equal(parseCondition('=== 3').op, '==');
  });

  it('reports every malformed condition with file, field path, expected and found', () => {
    try {
      checkExpectations({ a: ['<< 3', '< 1'], b: ['> null'], c: ['less than 5'] }, summary, 'experiments/x.yaml');
      assert.fail('should throw');
    } catch (e) {
      assert.ok(e instanceof SpilloverError);
      assert.deepEqual(
        e.problems.map((p) => [p.file, p.path]),
        [
          ['experiments/x.yaml', 'expect.a[0]'],
          ['experiments/x.yaml', 'expect.b[0]'],
          ['experiments/x.yaml', 'expect.c[0]'],
        ],
      );
      assert.equal(e.problems[0].found, '"<< 3"');
      assert.ok(e.problems.every((p) => p.expected && p.fix));
    }
  });
});
