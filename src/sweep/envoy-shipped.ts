/**
 * Which Envoy each Istio minor shipped, from istio/proxy (the repository that builds Istio's
 * sidecar): the tip of its `release-1.N` branch pins Envoy by commit in `WORKSPACE` (ENVOY_SHA,
 * with a "Commit date" comment), and since July 2026 also names Envoy's version in
 * `ENVOY_VERSION.txt`. Read from the istio/proxy snapshot whose master is at 86a72d03a (2026-08-22);
 * every row below records the branch tip it was read at.
 *
 * Only 1.28 and newer carry ENVOY_VERSION.txt, so only those rows name the Envoy minor *exactly*
 * (`exact: true`). For older branches the pinned commit is recorded, but its version was not read
 * (Envoy's repository is too large to bring here); their minor follows Istio's release cadence
 * (Istio 1.N branches from Envoy 1.(N+8) since 1.5) and is marked as not verified.
 * Envoy moves within a minor on each Istio patch release (the release branch tracks Envoy's
 * `release/v1.M`), so the patch level is not modelled: an era runs the served wheel of its minor.
 */
import { pinnedReleaseOfMinor } from '../runner/envoy-wheels.ts';

export interface EnvoyShipped {
  istio: string;
  /** Envoy minor ("1.36"), or null where no Envoy minor is assigned (pre-1.5 Istio pinned Envoy master). */
  envoyMinor: string | null;
  /** True when `envoyMinor` was read from istio/proxy's ENVOY_VERSION.txt, false when inferred. */
  exact: boolean;
  /** Where it was read: branch tip, pinned Envoy commit, and the version file when there is one. */
  source: string;
}

/** [Istio minor, istio/proxy release branch tip, pinned Envoy commit, its commit date, ENVOY_VERSION.txt]. */
const ROWS: Array<[string, string, string, string, string | null]> = [
  ['1.0', '5227c78b5063', 'istio/envoy@fb9e49cbc9f1', '2019-04-09', null],
  ['1.1', '4157a97bd829', 'envoyproxy/envoy@41b047871013', '2019-04-10', null],
  ['1.2', '0df7a33692a5', 'envoyproxy/envoy@6fff9c280785', '2019-11-21', null],
  ['1.3', '87f0a93b6665', 'istio/envoy@57d5df8e871f', '2019-11-21', null],
  ['1.4', '6b5b95a342bc', 'istio/envoy@2e62d8f64bbd', '2020-06-09', null],
  ['1.5', '144ed97101fa', 'istio/envoy@bc117b4449ab', '2020-06-02', null],
  ['1.6', '4dc5fec0086a', 'istio/envoy@c4e61373ef54', '2020-06-30', null],
  ['1.7', 'd68172a37cb8', 'istio/envoy@4abbbc0394b2', '2021-01-28', null],
  ['1.8', '8299d033d48f', 'istio/envoy@645405937f5d', '2021-05-11', null],
  ['1.9', 'b2f19db0835b', 'istio/envoy@451c785c7473', '2021-08-25', null],
  ['1.10', '98d4e1b66ba4', 'envoyproxy/envoy@ce71ae0f9695', '2021-08-31', null],
  ['1.11', 'ec4c81f5f6d6', 'envoyproxy/envoy@c74a3acd1900', '2022-03-28', null],
  ['1.12', '9f6fc78509fc', 'envoyproxy/envoy@49bb1eec9b39', '2022-07-19', null],
  ['1.13', 'bba17e8a5b3e', 'envoyproxy/envoy@cde1949ddc74', '2022-11-09', null],
  ['1.14', '47df873eb1bd', 'envoyproxy/envoy@f2404ab4c067', '2022-12-07', null],
  ['1.15', 'a5a8532d6b9e', 'envoyproxy/envoy@0865d3a1ec82', '2023-04-04', null],
  ['1.16', '9fc789edfd82', 'envoyproxy/envoy@a1ac6475e10f', '2023-07-26', null],
  ['1.17', '41bd9cc08278', 'envoyproxy/envoy@85bd7e2c06f7', '2023-11-21', null],
  ['1.18', '491c2e174bc6', 'envoyproxy/envoy@ffdedd22c877', '2023-12-18', null],
  ['1.19', 'aebe8e0f34a1', 'envoyproxy/envoy@dbe56775e9dc', '2024-05-02', null],
  ['1.20', 'fbb48eeda7d9', 'envoyproxy/envoy@346cc3385269', '2024-07-02', null],
  ['1.21', '8c2042cc8b8b', 'envoyproxy/envoy@ce3fab127659', '2024-10-01', null],
  ['1.22', '23713477499b', 'envoyproxy/envoy@de7386eb94df', '2025-01-24', null],
  ['1.23', '1bc573c5f6b7', 'envoyproxy/envoy@4a94a777ac3b', '2025-05-09', null],
  ['1.24', '5c1f1c05aa4c', 'envoyproxy/envoy@33af1bfe58b0', '2025-08-08', null],
  ['1.25', '560b6c6bcb8a', 'envoyproxy/envoy@ff59a3c4ba25', '2025-10-23', null],
  ['1.26', '4407514f427a', 'envoyproxy/envoy@d53eb8f6723e', '2026-03-11', null],
  ['1.27', '6da8b0ad8ddf', 'envoyproxy/envoy@c83778a9caff', '2026-04-03', null],
  ['1.28', '9d8b06509a34', 'envoyproxy/envoy@f70275c1e8a0', '2026-08-12', '1.36.10-dev'],
  ['1.29', '184641e1eb82', 'envoyproxy/envoy@0ec8f933a9bb', '2026-08-20', '1.37.6-dev'],
  ['1.30', '75d2899e1542', 'envoyproxy/envoy@589c4152ee36', '2026-08-20', '1.38.4-dev'],
  ['1.31', '8ecb87958061', 'envoyproxy/envoy@bee0843efc35', '2026-08-20', '1.39.1-dev'],
];

const minorOf = (istio: string) => Number(istio.split('.')[1]);

export function envoyShipped(istio: string): EnvoyShipped {
  const minor = minorOf(istio);
  const row = ROWS.find((r) => minorOf(r[0]) === minor);
  if (!row) return { istio, envoyMinor: null, exact: false, source: `no istio/proxy release-${istio} branch in the snapshot` };
  const [, tip, commit, date, file] = row;
  const where = `istio/proxy release-${row[0]} @ ${tip}: WORKSPACE pins ${commit} (${date})`;
  if (file) {
    const m = /^(\d+\.\d+)\./.exec(file)!;
    return { istio, envoyMinor: m[1], exact: true, source: `${where}; ENVOY_VERSION.txt ${file}` };
  }
  if (minor < 5) return { istio, envoyMinor: null, exact: false, source: `${where}; no version file, an Envoy master commit` };
  return {
    istio,
    envoyMinor: `1.${minor + 8}`,
    exact: false,
    source: `${where}; no version file: 1.${minor + 8} by release cadence, not verified`,
  };
}

/** The Envoy release an era's Istio shipped that this harness can install, if PyPI serves its minor. */
export function servedEnvoyFor(istio: string): string | undefined {
  const s = envoyShipped(istio);
  return s.envoyMinor ? pinnedReleaseOfMinor(s.envoyMinor) : undefined;
}
