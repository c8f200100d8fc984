/**
 * The report's words on recorded real runs (test/fixtures/runs/RECORDED.md): each case the issue
 * names -- blocked ejections, 50/50 balancing, interrupted, killed, contended, closed loop, events in
 * time order -- asserted on what a reader sees (narrative, lead lines, summary table).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeRun } from '../../src/analysis/read-run.ts';
import { leadLines } from '../../src/report/lead.ts';
import { narrative } from '../../src/report/narrative.ts';
import { summaryRows } from '../../src/report/tables.ts';

const RUNS = fileURLToPath(new URL('../fixtures/runs/', import.meta.url));

async function words(name: string, dir = RUNS + name) {
  const { analysis } = await analyzeRun(dir);
  const rows = Object.fromEntries(summaryRows(analysis.summary));
  return { a: analysis, s: analysis.summary, lead: leadLines(analysis.summary), text: narrative(analysis), rows };
}

const percentIn = (line: string) => [...line.matchAll(/(\d+(?:\.\d+)?) %/g)].map((m) => m[1]);

describe('report words on recorded runs', () => {
  it('blocked ejections: named as an event with maxEjectionPercent as the cause', async () => {
    const w = await words('blocked-ejections');
    const scrapes = fs
      .readFileSync(RUNS + 'blocked-ejections/raw/scrapes/client.ndjson', 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { samples?: Array<[string, Record<string, string>, number]> });
    const last = scrapes
      .flatMap((r) => r.samples ?? [])
      .filter((s) => s[0].endsWith('outlier_detection_ejections_overflow'))
      .at(-1)![2];
    assert.ok(last > 0);
    assert.equal(w.s.blockedEjections?.count, last);
    assert.equal(w.s.ejections, 0);
    const line = w.text.find((l) => /blocked ejection/.test(l));
    assert.ok(line, w.text.join('\n'));
    assert.match(line, /maxEjectionPercent unset, so Envoy's default 10 % applies/);
    assert.match(line, /ejecting 1 of 2 hosts would be 50 %/);
    assert.match(line, new RegExp(`Blocked ejections by the end of the run: ${last}\\b`));
    assert.ok(
      w.text.some((l) => /never redirected: outlier detection wanted to eject .* maxEjectionPercent refused every ejection/.test(l)),
    );
    assert.match(w.rows['blocked ejections (maxEjectionPercent)'], new RegExp(`^${last} from`));
  });

  it("50/50 balancing: no redirect episode, no recovery, B's share called load balancing", async () => {
    const w = await words('balanced-5050');
    assert.ok(w.s.servedBy.B > w.s.requests.total * 0.3 && w.s.servedBy.A > w.s.requests.total * 0.3, 'the fixture is balanced');
    assert.equal(w.s.requests.failed, 0);
    assert.equal(w.a.redirects.length, 0);
    assert.equal(w.a.events.filter((e) => e.kind === 'redirect-onset' || e.kind === 'recovery').length, 0);
    assert.equal(w.s.redirectedShare, 0);
    const all = w.text.join('\n');
    assert.doesNotMatch(all, /recovered|served again|redirected to B, caused/);
    assert.match(all, /Traffic was never redirected: A was never ejected/);
    assert.match(all, /B served \d+\.\d % of the requests through normal load balancing/);
  });

  it('interrupted: the lead says so and where the load stopped', async () => {
    const w = await words('interrupted');
    assert.equal(w.s.ending.ending, 'interrupted');
    assert.match(w.lead[0], /^The run was INTERRUPTED/);
    assert.match(w.lead[0], /The last request was sent at \d+\.\d s; everything below covers only the part that ran/);
    assert.match(w.rows['run ended'], /^INTERRUPTED/);
  });

  it('killed: a manifest without outcome reads as killed, not as a normal run', async () => {
    const m = JSON.parse(fs.readFileSync(RUNS + 'killed/manifest.json', 'utf8')) as Record<string, unknown>;
    assert.equal(m.outcome, undefined);
    const w = await words('killed');
    assert.equal(w.s.ending.ending, 'killed');
    assert.match(w.lead[0], /^The run was KILLED: the harness stopped without finishing the manifest/);
    assert.doesNotMatch(w.lead.join(' '), /completed/);
  });

  it('contended: start lag and load average lead the report; a quiet run says none was seen', async () => {
    const w = await words('balanced-5050');
    assert.ok(w.s.contention.startLagP99Ms! > 1);
    assert.match(w.lead[1], /^Contention caveat: the load driver's p99 start lag was [\d.]+ ms \(above 1 ms/);
    assert.match(w.lead[1], /the load average was [\d.]+ on 2 CPUs/);
    // The same run with the machine signals edited to a quiet machine's values.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spill-quiet-'));
    try {
      fs.cpSync(RUNS + 'balanced-5050', dir, { recursive: true });
      const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
      m.cpu.start.loadavg1 = 0.4;
      m.cpu.end.loadavg1 = 0.5;
      fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
      const ev = path.join(dir, 'raw/run-events.ndjson');
      fs.writeFileSync(ev, fs.readFileSync(ev, 'utf8').replace(/"p99":[\d.]+/, '"p99":0.42'));
      const q = await words('', dir);
      assert.equal(q.s.contention.contended, false);
      assert.match(q.lead[1], /^No sign of contention: the driver's p99 start lag was 0.42 ms, load average 0.25 per CPU/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('closed loop: described as such, no offered load, no "offered" in the table', async () => {
    const w = await words('closed-loop');
    assert.equal(w.s.loadModel, 'closed');
    assert.match(w.text[0], /sent in a closed loop/);
    assert.doesNotMatch(w.text.join('\n'), /offered load of up to|at offered|achieved 0 req\/s/);
    assert.match(w.text[0], /there is no offered load/);
    assert.match(w.text[0], /up to [1-9]\d* req\/s achieved/);
    assert.ok(!Object.keys(w.rows).some((k) => /offered/.test(k)));
    assert.ok(w.a.events.every((e) => e.offeredRps === null));
  });

  it('events are told in time order, each with its cause; words and table agree', async () => {
    for (const name of ['peak-load-r01', 'interrupted', 'killed', 'blocked-ejections']) {
      const w = await words(name);
      const times = w.text.filter((l) => l.startsWith('At ')).map((l) => Number(/^At (\d+\.\d) s/.exec(l)![1]));
      assert.deepEqual(
        times,
        [...times].sort((x, y) => x - y),
        `${name}: ${w.text.join('\n')}`,
      );
      // The redirect's cause is an ejection that happened no later than the redirect.
      for (const e of w.a.events.filter((x) => x.kind === 'redirect-onset')) {
        const t = Number(/at (\d+\.\d+) s$/.exec(e.cause)![1]);
        // (the cause's time is written to 10 ms)
        assert.ok(t <= e.t + 0.005, `${name}: onset ${e.t} before its cause ${t}`);
      }
      // "succeeded (x %)" in the words is the table's success ratio, digit for digit.
      assert.deepEqual(percentIn(/succeeded \(([^)]*)\)/.exec(w.text[0])![0]), percentIn(w.rows['success ratio']), name);
    }
  });

  it('the circuit breaker that tripped is named from its counter, not the whole pool', async () => {
    const w = await words('interrupted');
    const line = w.text.find((l) => /refused its first request/.test(l))!;
    assert.match(line, /http\.http1MaxPendingRequests=16 or http\.http2MaxRequests=32 .*\[upstream_rq_pending_overflow\]/);
    assert.doesNotMatch(line, /maxRequestsPerConnection|maxConnections/);
    assert.ok(w.s.breakers.some((b) => b.counter === 'upstream_rq_pending_overflow' && b.count > 0));
  });

  it('"A served again" only when A was out', async () => {
    const peak = await words('peak-load-r01');
    assert.ok(peak.text.some((l) => /A served again/.test(l)));
    const blocked = await words('blocked-ejections');
    assert.ok(!blocked.text.some((l) => /A served again/.test(l)));
  });
});

describe('configuration diagnosis in the report', () => {
  it('says which predicted pitfalls happened in the run', async () => {
    const { diagnosisRows, observedWords } = await import('../../src/report/diagnosis-section.ts');
    const blocked = diagnosisRows((await analyzeRun(RUNS + 'blocked-ejections')).analysis);
    const mep = blocked.find((r) => r.finding.id === 'max-ejection-percent')!;
    assert.equal(mep.observed.happened, true);
    assert.match(observedWords(mep.observed), /^happened: \d+ ejections refused/);
    const balanced = diagnosisRows((await analyzeRun(RUNS + 'balanced-5050')).analysis);
    assert.equal(balanced.find((r) => r.finding.id === 'failover-needs-outlier-detection')?.observed.happened, true);
    assert.ok(!balanced.some((r) => r.finding.id === 'max-ejection-percent'));
    const peak = diagnosisRows((await analyzeRun(RUNS + 'peak-load-r01')).analysis);
    assert.match(observedWords(peak.find((r) => r.finding.id === 'pool-below-load')!.observed), /^happened: A ejected at 2\.79 s/);
  });
});
