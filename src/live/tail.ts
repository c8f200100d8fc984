/**
 * Reads what has been appended to a file since the last call, as whole lines. A line still being
 * written (no newline yet) waits for the next call, so a half-flushed line is never parsed.
 */
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

export class Tail {
  private fd?: number;
  private offset = 0;
  private carry = '';
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  // A multi-byte character split across two reads is joined, not mangled.
  private readonly decoder = new StringDecoder('utf8');

  constructor(readonly file: string) {}

  /** Whether the file exists (has been opened). */
  get open(): boolean {
    return this.fd !== undefined;
  }

  lines(): string[] {
    if (this.fd === undefined) {
      try {
        this.fd = fs.openSync(this.file, 'r');
      } catch {
        return [];
      }
    }
    const out: string[] = [];
    for (;;) {
      const n = fs.readSync(this.fd, this.buf, 0, this.buf.length, this.offset);
      if (n <= 0) break;
      this.offset += n;
      const text = this.carry + this.decoder.write(this.buf.subarray(0, n));
      const parts = text.split('\n');
      this.carry = parts.pop() ?? '';
      for (const p of parts) if (p.trim() !== '') out.push(p);
      if (n < this.buf.length) break;
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
