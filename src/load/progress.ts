/** One-line live progress on a terminal; the driver calls it once per second and never when not a TTY. */
export interface ProgressSnapshot {
  elapsed: number;
  total: number;
  target: number;
  achieved: number;
  errors: number;
  dropped: number;
  active: number;
  allocated: number;
}

export function progressLine(p: ProgressSnapshot): string {
  const pct = p.total > 0 ? Math.min(100, (100 * p.elapsed) / p.total) : 0;
  return `${p.elapsed.toFixed(0)}s/${p.total.toFixed(0)}s ${pct.toFixed(0).padStart(3)}%  target ${p.target}/s  achieved ${p.achieved}/s  errors ${p.errors}  dropped ${p.dropped}  vus ${p.active}/${p.allocated}`;
}

export class ProgressView {
  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  update(p: ProgressSnapshot): void {
    const line = progressLine(p);
    const width = this.out.columns ?? 120;
    this.out.write(`\r${line.slice(0, width - 1).padEnd(Math.min(width - 1, line.length + 2))}`);
  }

  done(): void {
    this.out.write('\n');
  }
}
