/**
 * `spillover compare --junit` output is valid against Jenkins' junit-10.xsd (a copy in
 * test/fixtures/junit/), checked with xmllint from Debian's libxml2-utils (scripts/ensure-test-deps.sh
 * installs it): with failing figures, a failed threshold, an event that never happened, and names
 * that need escaping.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCompare } from '../../src/compare/run-compare.ts';
import { tmpDir, writeRuns, type FakeRun } from './fixtures.ts';

const XSD = fileURLToPath(new URL('../fixtures/junit/junit-10.xsd', import.meta.url));
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;
const validate = (file: string) => spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' });

const A: FakeRun[] = [10.0, 10.2, 9.9, 10.1, 10.3].map((t) => ({ firstEjectionS: t, redirectedFraction: 0.2, p99: 80 }));
// A is ejected later, and in three of five runs not at all.
const LATER: FakeRun[] = [14.0, 14.3, null, null, null].map((t) => ({ firstEjectionS: t, redirectedFraction: 0.12, p99: 80 }));

describe('compare: JUnit output against junit-10.xsd', function () {
  let root: string;
  beforeEach(function () {
    if (!hasXmllint) this.skip(); // scripts/ensure-test-deps.sh installs it (apt-get install libxml2-utils)
    root = tmpDir();
  });
  afterEach(() => root && fs.rmSync(root, { recursive: true, force: true }));

  it('validates, with failures, a failed threshold on an event that never happened, and awkward names', () => {
    writeRuns(path.join(root, 'a'), 'peak-load', A);
    writeRuns(path.join(root, 'b <"&]]>\u0001'), 'peak-load', LATER, { expect: { 'events.firstEjectionS': ['< 12'] } });
    const xml = path.join(root, 'cmp.xml');
    const { exitCode } = runCompare(path.join(root, 'a'), path.join(root, 'b <"&]]>\u0001'), { junit: xml, out: () => undefined });
    assert.equal(exitCode, 1);
    const text = fs.readFileSync(xml, 'utf8');
    assert.ok((text.match(/<failure /g) ?? []).length >= 2, text);
    assert.match(text, /typical value never/);
    const r = validate(xml);
    assert.equal(r.status, 0, r.stderr);
  });

  it('the schema check can fail: what junit-report-builder wrote (skipped on <testsuites>) is refused', () => {
    const xml = path.join(root, 'old.xml');
    fs.writeFileSync(
      xml,
      '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="1" failures="0" errors="0" skipped="0"><testsuite name="s" tests="1"><testcase name="c"/></testsuite></testsuites>\n',
    );
    const r = validate(xml);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /attribute 'skipped': The attribute 'skipped' is not allowed/);
  });
});
