/**
 * An Istio sidecar's stdout mixes three streams: istio-agent's own text log, the JSON access log
 * (mesh config provider `spillover-json`, keys of src/mesh/access-log.ts) and Envoy's outlier event
 * log (`outlierLogPath: /dev/stdout`). Split them into the raw files the local backend writes per
 * Envoy, so the analysis reads one format.
 */
import fs from 'node:fs';
import path from 'node:path';
import { envoyFile } from '../../contracts/raw.ts';

export type ProxyLine = 'access' | 'outlier' | 'other';

export function classify(line: string): ProxyLine {
  const t = line.trimStart();
  if (!t.startsWith('{')) return 'other';
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(t) as Record<string, unknown>;
  } catch {
    return 'other';
  }
  // Envoy's OutlierDetectionEvent (JSON form of the proto): always a cluster_name and an action.
  if ('cluster_name' in o && 'action' in o) return 'outlier';
  if ('rid' in o || 'code' in o || 'flags' in o) return 'access';
  return 'other';
}

/** Appends each classified line to raw/envoy/<envoy>/{access,outlier}.ndjson or envoy.log. */
export function proxyLogSink(runDir: string, envoy: string): { write(line: string): void; close(): void } {
  const fds: Partial<Record<ProxyLine, number>> = {};
  const file = { access: 'access.ndjson', outlier: 'outlier.ndjson', other: 'envoy.log' } as const;
  const fd = (k: ProxyLine) => {
    if (fds[k] === undefined) {
      const f = envoyFile(runDir, envoy, file[k]);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fds[k] = fs.openSync(f, 'a');
    }
    return fds[k]!;
  };
  return {
    write(line) {
      if (!line) return;
      const k = classify(line);
      fs.writeSync(fd(k), (k === 'other' ? line : line.trim()) + '\n');
    },
    close() {
      for (const v of Object.values(fds)) if (v !== undefined) fs.closeSync(v);
    },
  };
}
