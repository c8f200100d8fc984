/**
 * Bad input, round 2 (issue 11): strict numbers on every command's flags, limits that Envoy, Istio or a
 * timer would enforce only after start-up, fault targets and times, cross-resource consistency, names,
 * files that are not regular UTF-8 text, and `--set` blamed on the flag. Same contract as
 * bad-input.test.ts: exit 2, where / expected / found / fix, nothing started, nothing left behind.
 * The table lives here so that bad-input.test.ts can count it; bad-input-limits.test.ts runs it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PEAK_SCENARIO, peakLoadDoc, peakLoadText, replaceOnce } from './harness.ts';
import { set, type BadCase } from './bad-case.ts';

const DR = 'resources.1.spec.trafficPolicy';
const SE = 'resources.0.spec';
const write = (dir: string, name: string, data: string | Buffer) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, data);
  return f;
};
const fifo = (dir: string, name: string) => {
  const f = path.join(dir, name);
  execFileSync('mkfifo', [f]);
  return f;
};
const utf16 = (text: string, bom: boolean) =>
  Buffer.concat([bom ? Buffer.from([0xff, 0xfe]) : Buffer.alloc(0), Buffer.from(text, 'utf16le')]);

export const LIMIT_CASES: BadCase[] = [
  // --- numbers on the command line, every command -------------------------------------------------
  {
    name: '--time-scale with trailing characters',
    args: ['--time-scale', '0.1abc'],
    expect: { where: /^spillover: --time-scale:/, message: /not a number/, found: /"0\.1abc"/, fix: /--time-scale 0\.1/ },
  },
  { name: '--time-scale empty', args: ['--time-scale', ''], expect: { where: /--time-scale/, message: /not a number/, found: /""/ } },
  {
    name: '--time-scale 0',
    args: ['--time-scale', '0'],
    expect: { where: /--time-scale/, message: /out of range/, expected: /> 0 and <= 1/ },
  },
  { name: '--time-scale in hex', args: ['--time-scale', '0x1'], expect: { where: /--time-scale/, message: /not a number/, found: /0x1/ } },
  {
    name: '--repeat 0',
    args: ['--repeat', '0'],
    expect: { where: /^spillover: --repeat:/, message: /out of range/, expected: />= 1/, found: /"0"/ },
  },
  {
    name: '--repeat abc',
    args: ['--repeat', 'abc'],
    expect: { where: /--repeat/, message: /not a whole number/, found: /"abc"/, fix: /--repeat 5/ },
  },
  { name: '--repeat 2.5', args: ['--repeat', '2.5'], expect: { where: /--repeat/, message: /not a whole number/, found: /"2\.5"/ } },
  { name: '--repeat 1e9', args: ['--repeat', '1000000000'], expect: { where: /--repeat/, message: /out of range/, expected: /<= 1000/ } },
  {
    name: '--metrics-port 70000',
    args: ['--metrics-port', '70000'],
    expect: { where: /--metrics-port/, message: /out of range/, expected: /<= 65535/, found: /70000/ },
  },
  {
    name: '--metrics-port abc',
    args: ['--metrics-port', 'abc'],
    expect: { where: /--metrics-port/, message: /not a whole number/, found: /"abc"/ },
  },
  {
    name: '--metrics-port -1',
    args: ['--metrics-port', '-1'],
    expect: { where: /--metrics-port/, message: /out of range/, found: /"-1"/ },
  },
  {
    name: 'sweep --repeat x',
    argv: (f, out) => ['sweep', f, '--repeat', 'x', '--out', out, '--dry-run'],
    expect: { where: /--repeat/, message: /not a whole number/, found: /"x"/ },
  },
  {
    name: 'sweep --time-scale 1.5',
    argv: (f, out) => ['sweep', f, '--time-scale', '1.5', '--out', out, '--dry-run'],
    expect: { where: /--time-scale/, message: /out of range/, found: /1\.5/ },
  },
  {
    name: 'rerun --repeat 0',
    argv: (_f, _o, dir) => ['rerun', dir, '--repeat', '0'],
    expect: { where: /--repeat/, message: /out of range/ },
  },
  {
    name: 'report --bucket 0',
    argv: (_f, _o, dir) => ['report', dir, '--bucket', '0'],
    expect: { where: /--bucket/, message: /out of range/, expected: /> 0/ },
  },
  {
    name: 'report --window 5s (a unit)',
    argv: (_f, _o, dir) => ['report', dir, '--window', '5s'],
    expect: { where: /--window/, message: /not a number/, found: /"5s"/ },
  },
  {
    name: 'report --redirect-threshold 50 (a percentage)',
    argv: (_f, _o, dir) => ['report', dir, '--redirect-threshold', '50'],
    expect: { where: /--redirect-threshold/, message: /out of range/, expected: /<= 1/ },
  },
  {
    name: 'compare --alpha 5%',
    argv: (_f, _o, dir) => ['compare', dir, dir, '--alpha', '5%'],
    expect: { where: /--alpha/, message: /not a number/, found: /"5%"/ },
  },
  {
    name: 'compare --min-delta -3',
    argv: (_f, _o, dir) => ['compare', dir, dir, '--min-delta', '-3'],
    expect: { where: /--min-delta/, message: /out of range/, expected: />= 0/ },
  },
  {
    name: 'load --rate 10x',
    argv: (_f, out) => ['load', 'http://127.0.0.1:9/', '--rate', '10x', '--duration', '1s', '--out', out],
    expect: { where: /--rate/, message: /not a number/, found: /"10x"/ },
  },
  {
    name: 'load --rate 0',
    argv: (_f, out) => ['load', 'http://127.0.0.1:9/', '--rate', '0', '--duration', '1s', '--out', out],
    expect: { where: /--rate/, message: /out of range/, expected: /> 0/ },
  },
  {
    name: 'load --max-vus 1.5',
    argv: (_f, out) => ['load', 'http://127.0.0.1:9/', '--rate', '5', '--duration', '1s', '--max-vus', '1.5', '--out', out],
    expect: { where: /--max-vus/, message: /not a whole number/ },
  },
  {
    name: 'load --time-scale 0.5s',
    argv: (_f, out) => ['load', 'http://127.0.0.1:9/', '--rate', '5', '--duration', '1s', '--time-scale', '0.5s', '--out', out],
    expect: { where: /--time-scale/, message: /not a number/ },
  },
  {
    name: 'load --metrics-port 99999',
    argv: (_f, out) => ['load', 'http://127.0.0.1:9/', '--rate', '5', '--duration', '1s', '--metrics-port', '99999', '--out', out],
    expect: { where: /--metrics-port/, message: /out of range/ },
  },
  {
    name: 'rerun of a run whose manifest is not JSON',
    argv: (_f, _o, dir) => (write(dir, 'manifest.json', '{bad'), ['rerun', dir, '--dry-run']),
    expect: { where: /manifest\.json/, message: /not valid JSON/, fix: /restore/ },
  },
  {
    name: 'import k6 from a device',
    argv: (_f, out) => ['import', 'k6', '/dev/zero', '--out', out],
    expect: { where: /^spillover: \/dev\/zero:/, message: /not a regular file/, fix: /save the k6 output/ },
  },
  {
    name: 'load --duration with an unknown unit',
    argv: (_f, out) => ['load', 'http://127.0.0.1:9/', '--rate', '5', '--duration', '5x', '--out', out],
    expect: { where: /^spillover: --duration:/, message: /not a k6 duration/, found: /5x/, fix: /30s/ },
  },
  {
    name: 'import k6 --t0 yesterday',
    argv: (_f, out, dir) => ['import', 'k6', path.join(dir, 'k6.json'), '--out', out, '--t0', 'yesterday'],
    expect: { where: /--t0/, message: /not a whole number/, found: /"yesterday"/ },
  },

  {
    name: 'a misspelled option',
    args: ['--tme-scale', '0.1'],
    expect: { where: /^spillover: --tme-scale:/, message: /unknown option/, found: /--tme-scale/, fix: /did you mean --time-scale\?/ },
  },
  {
    name: 'an option without its value',
    argv: (f) => ['run', f, '--dry-run', '--out'],
    expect: { where: /^spillover: --out:/, message: /needs a value/, found: /nothing after it/ },
  },
  {
    name: 'a misspelled command',
    argv: (f) => ['rnu', f],
    expect: { where: /^spillover: rnu:/, message: /unknown command/, fix: /did you mean run\?/ },
  },

  // --- limits Envoy, Istio or a timer would enforce after start-up -------------------------------
  {
    name: 'a 1000h WAN delay',
    edit: set('topology.wanDelay', '1000h'),
    expect: { where: /experiment\.yaml:\d+ topology\.wanDelay/, message: /too long/, expected: /at most 1m/, found: /"1000h"/ },
  },
  {
    name: 'a request timeout of 0',
    edit: set('load.requestTimeout', '0s'),
    expect: { where: /load\.requestTimeout/, message: /more than 0ms/, found: /"0s"/ },
  },
  {
    name: 'a request timeout of 1000h',
    edit: set('load.requestTimeout', '1000h'),
    expect: { where: /load\.requestTimeout/, message: /too long/, expected: /at most 1h/ },
  },
  {
    name: 'a file flush interval of 0',
    edit: set('envoy.fileFlushInterval', '0ms'),
    expect: { where: /envoy\.fileFlushInterval/, message: /too short/, expected: /at least 1ms/, found: /"0ms"/ },
  },
  {
    name: 'a file flush interval in fractions of a millisecond',
    edit: set('envoy.fileFlushInterval', '1.5ms'),
    expect: { where: /envoy\.fileFlushInterval/, message: /whole number of milliseconds/, found: /"1\.5ms"/, fix: /2ms/ },
  },
  { name: 'a scrape interval of 0', edit: set('scrape.interval', '0s'), expect: { where: /scrape\.interval/, message: /more than 0ms/ } },
  {
    name: 'an Envoy concurrency of 1000 worker threads',
    edit: set('envoy.concurrency', 1000),
    expect: { where: /envoy\.concurrency/, message: /too large/, expected: /<= 64/, found: /1000/ },
  },
  {
    name: 'a lognormal median of 0',
    edit: set('services.A.capacity.serviceTime.median', '0ms'),
    expect: { where: /services\.A\.capacity\.serviceTime\.median/, message: /no median of 0/, found: /"0ms"/ },
  },
  {
    name: 'a p99 below the median',
    edit: set('services.A.capacity.serviceTime.p99', '5ms'),
    expect: {
      where: /services\.A\.capacity\.serviceTime\.p99/,
      message: /below the median/,
      expected: /p99 >= median \(20ms\)/,
      found: /"5ms"/,
    },
  },
  {
    name: 'an exponential mean of 0',
    edit: set('services.B.capacity.serviceTime', { distribution: 'exponential', mean: '0s' }),
    expect: { where: /services\.B\.capacity\.serviceTime\.mean/, message: /more than 0ms/ },
  },
  {
    name: 'a fixed service time of 2h',
    edit: set('services.B.capacity.serviceTime', { distribution: 'fixed', value: '2h' }),
    expect: { where: /services\.B\.capacity\.serviceTime\.value/, message: /too long/ },
  },
  {
    name: 'a billion concurrency slots',
    edit: set('services.A.capacity.concurrency', 1e9),
    expect: { where: /services\.A\.capacity\.concurrency/, message: /too large/, found: /1000000000/ },
  },
  {
    name: 'a seed beyond 32 bits',
    edit: set('seed', 1e20),
    expect: { where: /experiment\.yaml:\d+ seed/, message: /too big/i, found: /100000000000000000000/ },
  },
  {
    name: 'a seed just beyond 32 bits',
    edit: set('seed', 4294967296),
    expect: { where: /experiment\.yaml:\d+ seed/, message: /too large: seeds are 32-bit/, expected: /4294967295/ },
  },
  { name: 'a negative seed', edit: set('seed', -1), expect: { where: /seed/, message: /too small|>= 0/i, found: /-1/ } },
  {
    name: 'infinity as a concurrency (.inf)',
    text: (t) => replaceOnce(t, 'concurrency: 4', 'concurrency: .inf'),
    expect: { where: /services\.A\.capacity\.concurrency/, message: /int|number/i },
  },
  {
    name: 'the gateway on the admin port',
    edit: set('gateway.port', 15000),
    expect: { where: /gateway\.port/, message: /admin port/, found: /15000/, fix: /15443/ },
  },
  {
    name: 'an Istio release newer than the newest modelled',
    edit: set('istio.version', '1.35'),
    expect: { where: /istio\.version/, message: /newer than the newest release .* \(1\.29\)/, found: /"1\.35"/ },
  },
  {
    name: 'an Istio version written as a YAML number',
    text: (t) => replaceOnce(t, 'version: "1.29"', 'version: 1.30'),
    expect: { where: /istio\.version/, message: /expected string/, found: /1\.3/, fix: /quote it: version: "1\.30"/ },
  },
  {
    name: 'a negative connection limit',
    edit: set(`${DR}.connectionPool.tcp.maxConnections`, -1),
    expect: {
      where: /resources\[1\]\.spec\.trafficPolicy\.connectionPool\.tcp\.maxConnections/,
      message: /too small/,
      expected: />= 0/,
      found: /-1/,
    },
  },
  {
    name: 'a connection limit beyond 32 bits',
    edit: set(`${DR}.connectionPool.http.http2MaxRequests`, 5e9),
    expect: { where: /http2MaxRequests/, message: /too large/, found: /5000000000/ },
  },
  {
    name: 'an outlier interval below 1ms',
    edit: set(`${DR}.outlierDetection.interval`, '500us'),
    expect: { where: /outlierDetection\.interval/, message: /at least 1ms here \(ValidateDuration\)/, found: /"500us"/ },
  },
  {
    name: 'an ejection time longer than a protobuf Duration',
    edit: set(`${DR}.outlierDetection.baseEjectionTime`, '99999999999999h'),
    expect: { where: /outlierDetection\.baseEjectionTime/, message: /protobuf Duration/, expected: /315576000000s/ },
  },
  {
    name: 'a cluster range with an octet over 255',
    edit: set('topology.clusters.cluster-2.addresses', '127.0.300.0/24'),
    expect: { where: /topology\.clusters\.cluster-2\.addresses/, message: /loopback \/24/, found: /127\.0\.300\.0/ },
  },
  {
    name: 'a ServiceEntry endpoint off loopback on the local backend',
    edit: set(`${SE}.endpoints.0.address`, '10.1.2.3'),
    expect: {
      where: /resources\[0\]\.spec\.endpoints\[0\]\.address/,
      message: /only on loopback/,
      found: /10\.1\.2\.3/,
      fix: /\{\{gateway\.cluster-2\}\}/,
    },
  },
  {
    name: '--engine with a typo',
    args: ['--engine', 'k7'],
    expect: { where: /^spillover: --engine:/, message: /unknown value/, expected: /embedded, k6/, found: /"k7"/ },
  },
  {
    name: 'a scaled outlier interval of 0',
    args: ['--time-scale', '0.0001'],
    expect: {
      where: /resources\[1\]\.spec\.trafficPolicy\.outlierDetection\.interval/,
      message: /--time-scale 0\.0001 makes outlierDetection\.interval 0\.1ms \(from 1s\)/,
      found: /1s x 0\.0001/,
    },
  },
  {
    name: 'an env name k6 cannot take',
    edit: set('load.env', { 'PEAK-RATE': 400 }),
    expect: { where: /load\.env\.PEAK-RATE/, message: /not an environment variable name/, found: /"PEAK-RATE"/ },
  },

  // --- faults ------------------------------------------------------------------------------------
  {
    name: 'a fault at 1000h',
    edit: set('faults', [{ at: '1000h', action: 'kill', target: 'a-sidecar' }]),
    expect: { where: /faults\[0\]\.at/, message: /too long/, found: /"1000h"/ },
  },
  {
    name: 'a fault after the load has ended',
    edit: set('faults', [{ at: '200s', action: 'kill', target: 'a-sidecar' }]),
    expect: { where: /faults\[0\]\.at/, message: /after the load has ended/, expected: /120s/, found: /200s/ },
  },
  {
    name: 'a fault at the very end of the scaled load',
    edit: set('faults', [{ at: '120s', action: 'kill', target: 'a' }]),
    args: ['--time-scale', '0.5'],
    expect: { where: /faults\[0\]\.at/, message: /after the load has ended \(after --time-scale 0\.5\)/, expected: /60s/ },
  },
  {
    name: 'a fault aimed at no process',
    edit: set('faults', [{ at: '10s', action: 'kill', target: 'a-sidecr' }]),
    expect: {
      where: /faults\[0\]\.target/,
      message: /"a-sidecr" is not a process of the run/,
      expected: /a-sidecar/,
      fix: /did you mean "a-sidecar"/,
    },
  },
  {
    name: 'a service fault aimed at a sidecar',
    edit: set('faults', [{ at: '10s', action: 'service-fault', target: 'gateway', mode: 'error503' }]),
    expect: { where: /faults\[0\]\.target/, message: /not a service of the experiment/, expected: /A, B/ },
  },
  {
    name: 'a stall of 0s',
    edit: set('faults', [{ at: '10s', action: 'stall', target: 'b', duration: '0s' }]),
    expect: { where: /faults\[0\]\.duration/, message: /more than 0ms/ },
  },

  // --- cross-resource consistency ----------------------------------------------------------------
  {
    name: 'a ServiceEntry port named unlike the service port',
    edit: (d) => {
      set(`${SE}.ports.0.name`, 'http-a')(d);
      set(`${SE}.endpoints.0.ports`, { 'http-a': 15443 })(d);
    },
    expect: {
      where: /resources\[0\]\.spec\.ports/,
      message: /no port of this ServiceEntry is named "http"/,
      found: /http-a/,
      fix: /name the ServiceEntry port "http"/,
    },
  },
  {
    name: 'a ServiceEntry port number unlike the service port',
    edit: set(`${SE}.ports.0.number`, 8080),
    expect: { where: /resources\[0\]\.spec\.ports\[0\]\.number/, message: /is 8080 but service A listens on 80/, found: /8080/ },
  },
  {
    name: 'port-level settings for a port the service does not have',
    edit: set(`${DR}.portLevelSettings`, [{ port: { number: 9090 }, connectionPool: { tcp: { maxConnections: 1 } } }]),
    expect: { where: /portLevelSettings\[0\]\.port\.number/, message: /has no port 9090/, expected: /80/ },
  },
  {
    name: 'two DestinationRules for one host',
    edit: (d) => {
      const second = peakLoadDoc().getIn(['resources', 1]) as { setIn(p: unknown[], v: unknown): void };
      second.setIn(['metadata', 'name'], 'a-second');
      (d.get('resources') as { add(v: unknown): void }).add(second);
    },
    expect: {
      where: /resources\[2\]\.spec\.host/,
      message: /second DestinationRule for host a\.istio\.svc\.cluster\.local: istiod merges them into the older one, resources\[1\]/,
      fix: /merge the two/,
    },
  },

  // --- names ---------------------------------------------------------------------------------------
  {
    name: 'an experiment name of 64 characters',
    edit: set('metadata.name', 'a'.repeat(64)),
    expect: { where: /experiment\.yaml:\d+ metadata\.name/, message: /at most 63/, found: /"a{64}"/ },
  },
  {
    name: 'a name with a zero-width space',
    edit: set('metadata.name', 'peak\u200Bload'),
    expect: { where: /metadata\.name/, message: /DNS-label/, found: /"peak\\u200Bload"/ },
  },
  {
    name: 'a name with a no-break space',
    edit: set('metadata.name', 'peak\u00A0load'),
    expect: { where: /metadata\.name/, message: /DNS-label/, found: /peak\\u00A0load/ },
  },
  {
    name: 'a field name with a zero-width space',
    text: (t) => replaceOnce(t, 'seed: 42', 'seed\u200B: 42'),
    expect: { where: /seed\\u200B/, message: /unknown field "seed\\u200B" \(did you mean "seed"\?\)/, fix: /invisible character/ },
  },
  {
    name: 'a byte-order mark in the middle of the file',
    text: (t) => replaceOnce(t, 'seed: 42', '\uFEFFseed: 42'),
    expect: { where: /\\uFEFFseed/, message: /unknown field/, fix: /invisible/ },
  },
  {
    // Lower-case names (helloworld-v1) are deployments of the general topology; an underscore is not a DNS label.
    name: 'a service name with an underscore',
    edit: (d) => {
      const a = d.getIn(['services', 'A']);
      d.deleteIn(['services', 'A']);
      d.setIn(['services', 'a_1'], a);
    },
    expect: { where: /services\.a_1/, message: /the name "a_1" is not allowed here: expected a service name such as "A"/, found: /"a_1"/ },
  },

  // --- files -------------------------------------------------------------------------------------
  {
    name: 'a FIFO as the experiment (refused without blocking)',
    file: (dir) => fifo(dir, 'exp.yaml'),
    expect: { where: /exp\.yaml/, message: /is a named pipe \(FIFO\), not a regular file/, found: /exp\.yaml/, fix: /regular file/ },
  },
  {
    name: 'a device as the experiment',
    file: () => '/dev/zero',
    expect: { where: /dev\/zero/, message: /is a character device/, fix: /regular file/ },
  },
  {
    name: 'a directory as the experiment',
    file: (dir) => (fs.mkdirSync(path.join(dir, 'exps')), path.join(dir, 'exps')),
    expect: { where: /exps/, message: /experiment file path is a directory/ },
  },
  {
    name: 'an experiment that does not exist',
    file: (dir) => path.join(dir, 'nope.yaml'),
    expect: { where: /nope\.yaml/, message: /does not exist/, fix: /experiments\// },
  },
  {
    name: 'a UTF-16 experiment with a BOM',
    file: (dir) => write(dir, 'u16.yaml', utf16(peakLoadText(), true)),
    expect: { where: /u16\.yaml/, message: /UTF-16/, fix: /save it as UTF-8/ },
  },
  {
    name: 'a UTF-16 experiment without a BOM',
    file: (dir) => write(dir, 'u16.yaml', utf16(peakLoadText(), false)),
    expect: { where: /u16\.yaml/, message: /looks encoded in UTF-16/, fix: /save it as UTF-8/ },
  },
  {
    name: 'a Latin-1 experiment',
    file: (dir) => write(dir, 'l1.yaml', Buffer.from(peakLoadText().replace('Ramp load', 'Caf\u00e9 load'), 'latin1')),
    expect: { where: /l1\.yaml/, message: /not valid UTF-8 \(line \d+, byte 0xE9/, fix: /save it as UTF-8/ },
  },
  {
    name: 'a binary file as the experiment',
    file: (dir) => write(dir, 'bin.yaml', Buffer.from([0x61, 0x3a, 0x20, 0x00, 0x01, 0x02, 0x7f, 0x0a])),
    expect: { where: /bin\.yaml/, message: /binary, not text/ },
  },
  {
    name: 'a scenario path that is a directory',
    scenarioPath: () => path.dirname(PEAK_SCENARIO),
    expect: { where: /experiment\.yaml:\d+ load\.scenario/, message: /scenario script path is a directory/, fix: /name a file in it/ },
  },
  {
    name: 'a FIFO as the scenario',
    scenarioPath: (dir) => fifo(dir, 'sc.js'),
    expect: { where: /load\.scenario/, message: /named pipe \(FIFO\)/, found: /sc\.js/ },
  },
  {
    name: 'a UTF-16 scenario',
    scenarioPath: (dir) => write(dir, 'sc.js', utf16(fs.readFileSync(PEAK_SCENARIO, 'utf8'), true)),
    expect: { where: /load\.scenario/, message: /UTF-16/, fix: /save it as UTF-8/ },
  },

  // --- YAML oddities -------------------------------------------------------------------------------
  {
    name: 'an alias bomb (billion laughs)',
    text: (t) =>
      `${t}\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n${Array.from({ length: 8 }, (_, i) => `x${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(', ')}]`).join('\n')}\n`,
    without: ['found'],
    expect: { where: /experiment\.yaml/, message: /YAML error|alias/i, fix: /alias/ },
  },
  {
    name: 'nesting deeper than the parser can follow',
    text: (t) => `${t}\nexpect: ${'{a: '.repeat(3000)}1${'}'.repeat(3000)}\n`,
    expect: { where: /experiment\.yaml:\d+/, message: /nested too deeply/, found: /expect: \{a: \{a:.*\.\.\./ },
  },
  {
    name: 'a 100,000-character name, shown cut',
    edit: set('metadata.name', 'x'.repeat(100_000)),
    expect: { where: /metadata\.name/, message: /DNS-label/, found: /\.\.\. \(100000 characters\)$/ },
  },
  {
    name: 'a file over 8 MiB',
    file: (dir) => write(dir, 'big.yaml', `${peakLoadText()}\n#${'x'.repeat(9 * 2 ** 20)}\n`),
    expect: { where: /big\.yaml/, message: /MiB; that is not a hand-written experiment file/, expected: /at most 8 MiB/ },
  },
  {
    name: 'a plain scalar as the whole file',
    text: () => 'hello\n',
    expect: { where: /experiment\.yaml/, message: /must be a YAML mapping/, found: /hello/ },
  },
  { name: 'resources as a mapping', edit: set('resources', { a: 1 }), expect: { where: /resources/, message: /expected array|list/i } },
  // No resources at all is valid (every host gets Istio's defaults); resources that are not a list are not.
  {
    name: 'resources that are not a list',
    edit: set('resources', { kind: 'DestinationRule' }),
    expect: { where: /resources/, message: /array|list/i },
  },
  {
    name: 'a negative service port',
    edit: set('services.A.port.number', -80),
    expect: { where: /services\.A\.port\.number/, message: /too small|>=\s*1/i, found: /-80/ },
  },
  {
    name: 'a boolean concurrency',
    edit: set('services.A.capacity.concurrency', true),
    expect: { where: /services\.A\.capacity\.concurrency/, message: /number/, found: /true/ },
  },
  {
    name: 'an Istio resource of an unknown apiVersion',
    edit: set('resources.1.apiVersion', 'networking.istio.io/v2'),
    expect: { where: /resources\[1\]\.apiVersion/, message: /not allowed/, found: /v2/ },
  },

  // --- --set is the flag's problem, not the file's -------------------------------------------------
  {
    name: '--set on a field that does not exist',
    args: ['--set', 'load.requestTimout=5s'],
    expect: { where: /^spillover: --set load\.requestTimout=5s load\.requestTimout:/, message: /did you mean "requestTimeout"/ },
  },
  {
    name: '--set past the end of a list',
    args: ['--set', 'resources[7].spec.host=x'],
    expect: { where: /--set resources\[7\]\.spec\.host=x/, message: /past its end/, expected: /\[0\] to \[2\]/ },
  },
  {
    name: '--set a field name on a list',
    args: ['--set', 'resources.spec.host=x'],
    expect: {
      where: /^spillover: --set resources\.spec\.host=x resources\.spec:/,
      message: /resources is a list, so "spec" names nothing in it/,
      expected: /DestinationRule\/a/,
    },
  },
  {
    name: '--set a list field the file does not have, as a mapping',
    args: ['--set', 'faults.at=1s'],
    expect: { where: /^spillover: --set faults\.at=1s faults:/, message: /expected array/, fix: /a list/ },
  },
  {
    name: '--set that breaks a cross-reference',
    args: ['--set', 'client.cluster=cluster-9'],
    expect: { where: /^(spillover: )?--set client\.cluster=cluster-9 client\.cluster:/, message: /unknown cluster "cluster-9"/ },
  },
  {
    name: '--set a request timeout of 0',
    args: ['--set', 'load.requestTimeout=0s'],
    expect: { where: /^spillover: --set load\.requestTimeout=0s load\.requestTimeout:/, message: /more than 0ms/ },
  },
  {
    name: '--set a fault that fires after the load',
    args: ['--set', 'faults[0]={at: 500s, action: kill, target: b}'],
    expect: { where: /^spillover: --set faults\[0\]=.* faults\[0\]\.at:/, message: /after the load has ended/ },
  },
];
