/**
 * timeseries.csv, the report's per-bucket view of a run, as a contract: analysis builds the rows,
 * report writes them in `TIMESERIES_COLUMNS` order, and whatever reads a run's series back (the
 * repeat-set figures) goes through `readTimeseries`, never by parsing the CSV by column name itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { SpilloverError } from '../errors.ts';

export const TIMESERIES_FILE = 'timeseries.csv';

export interface TimeseriesRow {
  t_s: number;
  target_rps: number;
  dropped: number;
  sent_rps: number;
  ok_rps: number;
  served_a_rps: number;
  served_b_rps: number;
  served_other_rps: number;
  status_2xx: number;
  status_3xx: number;
  status_4xx: number;
  status_5xx: number;
  transport_errors: number;
  overflow_503: number;
  upstream_5xx: number;
  /** From the client Envoy's access log (null columns when there is none, e.g. a k6 import). */
  flag_uo: number | null;
  flag_uh: number | null;
  flag_urx: number | null;
  flag_uf: number | null;
  flag_ut: number | null;
  flag_other: number | null;
  retried: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  a_p50_ms: number | null;
  a_p95_ms: number | null;
  a_p99_ms: number | null;
  b_p50_ms: number | null;
  b_p95_ms: number | null;
  b_p99_ms: number | null;
}

export const TIMESERIES_COLUMNS: Array<keyof TimeseriesRow> = [
  't_s',
  'target_rps',
  'dropped',
  'sent_rps',
  'ok_rps',
  'served_a_rps',
  'served_b_rps',
  'served_other_rps',
  'status_2xx',
  'status_3xx',
  'status_4xx',
  'status_5xx',
  'transport_errors',
  'overflow_503',
  'upstream_5xx',
  'flag_uo',
  'flag_uh',
  'flag_urx',
  'flag_uf',
  'flag_ut',
  'flag_other',
  'retried',
  'p50_ms',
  'p95_ms',
  'p99_ms',
  'a_p50_ms',
  'a_p95_ms',
  'a_p99_ms',
  'b_p50_ms',
  'b_p95_ms',
  'b_p99_ms',
];

export type TimeseriesColumn = keyof TimeseriesRow;

/** The columns that are empty when there is no data for them (the others are always numbers). */
const NULLABLE: ReadonlySet<TimeseriesColumn> = new Set<TimeseriesColumn>([
  'flag_uo',
  'flag_uh',
  'flag_urx',
  'flag_uf',
  'flag_ut',
  'flag_other',
  'retried',
  'p50_ms',
  'p95_ms',
  'p99_ms',
  'a_p50_ms',
  'a_p95_ms',
  'a_p99_ms',
  'b_p50_ms',
  'b_p95_ms',
  'b_p99_ms',
]);

/** A row as read from disk: `t_s` always; any other column the file has (files of older runs have fewer). */
export type StoredTimeseriesRow = Pick<TimeseriesRow, 't_s'> & Partial<TimeseriesRow>;

export interface StoredTimeseries {
  file: string;
  /** The known columns the file has, in its order (unknown ones, from a newer harness, are left out). */
  columns: TimeseriesColumn[];
  rows: StoredTimeseriesRow[];
}

const display = (p: string) => path.relative(process.cwd(), p) || p;
const KNOWN = new Set<string>(TIMESERIES_COLUMNS);
const fix = (dir: string) => `run \`spillover report ${display(dir)}\` to write it again from the run's raw data`;

/**
 * Read and check `<dir>/timeseries.csv`: a header with `t_s`, and in every row a number in each known
 * column (or an empty cell, read as null, in the columns that may be empty). Anything else is a
 * SpilloverError naming the file, the line and the column.
 */
export function readTimeseries(dir: string): StoredTimeseries {
  const file = path.join(dir, TIMESERIES_FILE);
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(fs.readFileSync(file, 'utf8'), { skip_empty_lines: true, info: true }) as unknown as typeof records;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { lines?: number };
    throw new SpilloverError({
      file: display(file),
      line: err.lines,
      message: err.code === 'ENOENT' ? 'no timeseries.csv in the run directory' : `cannot read the run's timeseries (${err.message})`,
      fix: fix(dir),
    });
  }
  const header = records[0]?.record ?? [];
  if (!header.includes('t_s')) {
    throw new SpilloverError({
      file: display(file),
      line: 1,
      message: 'not a run timeseries: the header has no t_s column',
      expected: TIMESERIES_COLUMNS.join(','),
      found: header.join(',').slice(0, 80),
      fix: fix(dir),
    });
  }
  const columns = header.filter((c): c is TimeseriesColumn => KNOWN.has(c));
  const rows = records.slice(1).map(({ record: cells, info }) => {
    const row: Record<string, number | null> = {};
    header.forEach((c, j) => {
      if (!KNOWN.has(c)) return;
      const cell = cells[j];
      const col = c as TimeseriesColumn;
      if (cell === '' && NULLABLE.has(col)) row[col] = null;
      else if (cell !== '' && Number.isFinite(Number(cell))) row[col] = Number(cell);
      else
        throw new SpilloverError({
          file: display(file),
          line: info.lines,
          path: col,
          message: 'a timeseries cell is not a number',
          expected: NULLABLE.has(col) ? 'a number, or empty' : 'a number',
          found: JSON.stringify(cell),
          fix: fix(dir),
        });
    });
    return row as StoredTimeseriesRow;
  });
  return { file, columns, rows };
}
