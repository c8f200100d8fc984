import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'csv-stringify/sync';
import { parse } from 'csv-parse/sync';
import { REQUEST_COLUMNS, requestRowsCsv } from '../../src/report/csv.ts';
import type { RequestRecord } from '../../src/contracts/raw.ts';

const text = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('a,b', 'say "hi"', 'l1\nl2', 'cr\r', 'ünï', ''));
const num = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });
const record = fc.record(
  {
    id: fc.nat(),
    scenario: text,
    iter: fc.nat(),
    intended: num,
    sent: num,
    end: num,
    status: fc.constantFrom(0, 200, 503),
    error: text,
    service: text,
    instance: text,
    envoy: text,
    rid: text,
    method: text,
    url: text,
  },
  { requiredKeys: ['id', 'scenario', 'iter', 'intended', 'sent', 'end', 'status', 'rid'] },
) as fc.Arbitrary<RequestRecord>;

describe('report/csv requests.csv rows', () => {
  it('are byte-for-byte what csv-stringify writes, exotic strings included', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 20 }), (recs) => {
        const viaLibrary = stringify(
          recs.map((r) => [
            r.id,
            r.scenario,
            r.iter,
            r.intended,
            r.sent,
            r.end,
            Math.round((r.end - r.intended) * 1e6) / 1e3,
            r.status,
            r.error,
            r.service,
            r.instance,
            r.envoy,
            r.rid,
            r.method,
            r.url,
          ]),
        );
        assert.equal(requestRowsCsv(recs), viaLibrary);
      }),
      { numRuns: 300 },
    );
  });

  it('read back with csv-parse to the same cells', () => {
    const recs: RequestRecord[] = [
      {
        id: 1,
        scenario: 'peak',
        iter: 0,
        intended: 1,
        sent: 1.5,
        end: 2,
        status: 503,
        envoy: 'overloaded',
        rid: 'a,"b"\nc',
        url: 'http://127.0.0.1/x?y=1,2',
      },
    ];
    const [row] = parse(requestRowsCsv(recs)) as string[][];
    assert.equal(row.length, REQUEST_COLUMNS.length);
    assert.equal(row[REQUEST_COLUMNS.indexOf('rid')], 'a,"b"\nc');
    assert.equal(row[REQUEST_COLUMNS.indexOf('latency_ms')], '1000');
    assert.equal(row[REQUEST_COLUMNS.indexOf('envoy')], 'overloaded');
  });
});
