/**
 * The seam between the backends and the command-line tools they drive (kind, docker, istioctl,
 * kubectl). Everything goes through one `Tools` object, so that
 *  - `plan` (dry-run) records the exact command lines instead of running them, and
 *  - tests point PATH at fake binaries that record their argv.
 */
import { execa } from 'execa';
import { SpilloverError } from '../../errors.ts';

export interface ToolCall {
  cmd: string;
  args: string[];
  /** Text fed to stdin (e.g. `kind create cluster --config -`), or a file the dry-run wrote it to. */
  input?: string;
}

export interface Tools {
  /** Run to completion and return stdout; a non-zero exit is a SpilloverError naming the command. */
  run(call: ToolCall, opts?: { signal?: AbortSignal; allowFail?: boolean }): Promise<{ stdout: string; exitCode: number }>;
}

export interface ExecaToolsOptions {
  /** PATH to search (tests prepend a folder of fake binaries). */
  path?: string;
  env?: Record<string, string>;
  cwd?: string;
  log?: (line: string) => void;
}

export const formatCall = (c: ToolCall) => [c.cmd, ...c.args].map(shellQuote).join(' ');

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@,+%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function execaTools(opts: ExecaToolsOptions = {}): Tools {
  const env = { ...opts.env, ...(opts.path ? { PATH: opts.path } : {}) };
  return {
    async run(call, o = {}) {
      opts.log?.(`$ ${formatCall(call)}`);
      const r = await execa(call.cmd, call.args, {
        env,
        cwd: opts.cwd,
        input: call.input,
        reject: false,
        cancelSignal: o.signal,
        stripFinalNewline: true,
      });
      if (r.failed && (r.exitCode === undefined || r.isCanceled)) {
        const missing = (r as { code?: string }).code === 'ENOENT';
        throw new SpilloverError(
          {
            message: missing ? `${call.cmd} is not installed (or not on PATH)` : `${formatCall(call)} did not run: ${r.shortMessage}`,
            fix: missing ? `install ${call.cmd}; \`spillover doctor\` lists every tool the kind backend needs` : 'see the message above',
          },
          1,
        );
      }
      const exitCode = r.exitCode ?? 1;
      if (exitCode !== 0 && !o.allowFail) {
        throw new SpilloverError(
          {
            message: `${formatCall(call)} failed with exit code ${exitCode}`,
            found: String(r.stderr || r.stdout)
              .trim()
              .split('\n')
              .slice(-8)
              .join('\n'),
            fix: 'read the tool output above; `spillover doctor` checks the tool versions',
          },
          1,
        );
      }
      return { stdout: String(r.stdout ?? ''), exitCode };
    },
  };
}

/** Records calls and answers with canned output: what `plan` uses, and what unit tests can use. */
export function recordingTools(answer: (c: ToolCall) => string = () => ''): Tools & { calls: ToolCall[] } {
  const calls: ToolCall[] = [];
  return {
    calls,
    async run(call) {
      calls.push(call);
      return { stdout: answer(call), exitCode: 0 };
    },
  };
}
