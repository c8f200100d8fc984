/**
 * Envoy JSON access-log lines (the harness's format, see raw.ts) → compact columns. Tolerant by
 * design: Envoy prints "-" or omits a field it has no value for, and a run cut short can leave a
 * half-written last line.
 */
import { toRunSeconds } from '../contracts/raw.ts';
import { grown } from './typed-arrays.ts';

/** Response flags we chart, as bits so a million lines cost one Uint16 each. */
export const FLAG_BITS = { UO: 1, UH: 2, URX: 4, UF: 8, UT: 16, UC: 32, UR: 64, LR: 128, DC: 256, NR: 512 } as const;
export const OTHER_FLAG = 1024;

export interface AccessColumns {
  n: number;
  /** Run seconds at request start. */
  start: Float64Array;
  code: Uint16Array;
  flags: Uint16Array;
  attempts: Uint8Array;
  /** Destination code per line (see DEST in request-columns.ts), from the upstream host. */
  dest: Uint8Array;
  /** Upstream host ("" when Envoy printed "-"): interned, so a million lines share a few strings. */
  host: string[];
}

export function flagBits(flags: unknown): number {
  if (typeof flags !== 'string' || flags === '-' || flags === '') return 0;
  let bits = 0;
  for (const f of flags.split(',')) bits |= (FLAG_BITS as Record<string, number>)[f.trim()] ?? OTHER_FLAG;
  return bits;
}

export class AccessColumnsBuilder {
  private cap = 1024;
  private n = 0;
  private start = new Float64Array(this.cap);
  private code = new Uint16Array(this.cap);
  private flags = new Uint16Array(this.cap);
  private attempts = new Uint8Array(this.cap);
  private dest = new Uint8Array(this.cap);
  private host: string[] = [];
  private hosts = new Map<string, string>();
  malformed = 0;

  constructor(
    private readonly t0Epoch: number,
    private readonly destOf: (upstream: string) => number,
  ) {}

  addLine(line: string): void {
    if (line.trim() === '') return;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch {
      this.malformed++;
      return;
    }
    this.add(o);
  }

  add(o: Record<string, unknown>): void {
    const startS = Number(o.start);
    if (!Number.isFinite(startS)) {
      this.malformed++;
      return;
    }
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    this.start[i] = toRunSeconds(startS * 1000, this.t0Epoch);
    const code = Number(o.code);
    this.code[i] = Number.isFinite(code) ? code : 0;
    this.flags[i] = flagBits(o.flags);
    const att = Number(o.attempts);
    this.attempts[i] = Number.isFinite(att) ? Math.min(255, att) : 0;
    const up = typeof o.upstream === 'string' && o.upstream !== '-' ? o.upstream : '';
    this.dest[i] = up ? this.destOf(up) : 0;
    let h = this.hosts.get(up);
    if (h === undefined) this.hosts.set(up, (h = up));
    this.host.push(h);
  }

  private grow(): void {
    this.cap *= 2;
    const g = <T extends Float64Array | Uint16Array | Uint8Array>(a: T): T => grown(a, this.cap);
    this.start = g(this.start);
    this.code = g(this.code);
    this.flags = g(this.flags);
    this.attempts = g(this.attempts);
    this.dest = g(this.dest);
  }

  build(): AccessColumns {
    const n = this.n;
    return {
      n,
      start: this.start.subarray(0, n),
      code: this.code.subarray(0, n),
      flags: this.flags.subarray(0, n),
      attempts: this.attempts.subarray(0, n),
      dest: this.dest.subarray(0, n),
      host: this.host,
    };
  }
}
