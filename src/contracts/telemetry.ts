/**
 * One telemetry sample as the raw results store it (`raw/scrapes/*.ndjson`): `[name, labels, value]`,
 * flat like Prometheus's text exposition, so histograms keep their `_bucket`/`_sum`/`_count` names.
 * Capture writes them, analysis reads them: the type lives here, below both.
 */
export type Sample = [string, Record<string, string>, number];
