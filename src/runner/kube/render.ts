/**
 * The dry run's output: every manifest as a YAML file under `kube/`, the kind configs, and
 * `kube/commands.sh`, the steps in order as shell (the kubectl lines are the equivalents of the
 * server-side applies spillover does itself through the API).
 */
import fs from 'node:fs';
import path from 'node:path';
import { toYaml } from '../../util/yaml.ts';
import type { Step } from './steps.ts';
import { TIMEOUTS } from './steps.ts';
import { FIELD_MANAGER } from './kube-client.ts';
import { shellQuote, type ToolCall } from './tools.ts';
import type { KubeObject } from './validate.ts';

const gatewayVar = (cluster: string) => `GATEWAY_${cluster.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`;

export const manifestYaml = (objects: KubeObject[]) => objects.map((o) => toYaml(o)).join('---\n');

/** `{run}/x` and `{repo}/x` -> absolute paths, for execution. */
export function resolveCall(call: ToolCall, runDir: string, repo: string): ToolCall {
  const r = (a: string) => a.replace(/^\{run\}/, runDir).replace(/^\{repo\}/, repo);
  return { ...call, args: call.args.map(r) };
}

function displayArg(a: string): string {
  const m = /^\{(run|repo)\}(.*)$/.exec(a);
  if (!m) return shellQuote(a);
  return `"$${m[1] === 'run' ? 'RUN_DIR' : 'REPO'}"${m[2] ? shellQuote(m[2]) : ''}`;
}

export const displayCall = (call: ToolCall) => [call.cmd, ...call.args.map(displayArg)].join(' ');

/** One line per step, human-readable, for DryRunPlan.steps and the run log. */
export function describeStep(s: Step, contextOf: (cluster: string) => string): string {
  switch (s.kind) {
    case 'tool':
      return `${s.title}: ${displayCall(s.call)}`;
    case 'apply':
      return `${s.title}: server-side apply ${s.file} to ${contextOf(s.cluster)} (${s.objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`;
    case 'write':
      return `${s.title}: ${s.file}`;
    case 'rollout':
      return `${s.title}`;
    case 'gateway-address':
      return `${s.title}: Service ${s.namespace}/${s.service} status.loadBalancer.ingress[0]`;
    case 'federate':
      return `${s.title}: validate and server-side apply ${s.file} to ${contextOf(s.cluster)}`;
    case 'remote-secret':
      return `${s.title}: ${displayCall(s.call)} | server-side apply to ${contextOf(s.cluster)}`;
  }
}

function shellOf(s: Step, contextOf: (cluster: string) => string, kubeconfigOf: (cluster: string) => string | undefined): string[] {
  const kc = (c: string) => {
    const f = kubeconfigOf(c);
    return `kubectl ${f ? `--kubeconfig ${displayArg(f)} ` : ''}--context ${shellQuote(contextOf(c))}`;
  };
  switch (s.kind) {
    case 'tool':
      return [displayCall(s.call)];
    case 'apply':
      return [
        `${kc(s.cluster)} apply --server-side --field-manager=${FIELD_MANAGER} --force-conflicts -f "$RUN_DIR"/${shellQuote(s.file)}`,
      ];
    case 'write':
      return [`# (input of the istioctl step below: "$RUN_DIR"/${shellQuote(s.file)})`];
    case 'rollout':
      return [`${kc(s.cluster)} -n ${s.namespace} rollout status deployment/${s.name} --timeout=${TIMEOUTS.rolloutMs / 1000}s`];
    case 'gateway-address': {
      const v = gatewayVar(s.cluster);
      return [
        `until ${v}=$(${kc(s.cluster)} -n ${s.namespace} get service ${s.service} -o jsonpath='{.status.loadBalancer.ingress[0].ip}') && [ -n "$${v}" ]; do sleep 2; done`,
      ];
    }
    case 'federate': {
      if (!s.gateways.length)
        return [
          `${kc(s.cluster)} apply --server-side --field-manager=${FIELD_MANAGER} --force-conflicts -f "$RUN_DIR"/${shellQuote(s.file)}`,
        ];
      const seds = s.gateways.map((g) => `-e 's/{{gateway.${g}}}/'"$${gatewayVar(g)}"'/g'`).join(' ');
      return [
        `sed ${seds} "$RUN_DIR"/${shellQuote(s.file)} | ${kc(s.cluster)} apply --server-side --field-manager=${FIELD_MANAGER} --force-conflicts -f -`,
      ];
    }
    case 'remote-secret':
      return [`${displayCall(s.call)} | ${kc(s.cluster)} apply --server-side --field-manager=${FIELD_MANAGER} --force-conflicts -f -`];
  }
}

export function commandsSh(
  steps: Step[],
  contextOf: (cluster: string) => string,
  kubeconfigOf: (cluster: string) => string | undefined,
  header: string[],
): string {
  const out = [
    '#!/usr/bin/env bash',
    ...header.map((h) => `# ${h}`),
    '# Steps with the same [group] run in parallel.',
    'set -euo pipefail',
    'RUN_DIR=${RUN_DIR:-$(cd "$(dirname "$0")/.." && pwd)}',
    'REPO=${REPO:-$(pwd)}',
    '',
  ];
  steps.forEach((s, i) => {
    out.push(`# ${i + 1}. ${s.title}${s.group ? ` [${s.group}]` : ''}`);
    out.push(...shellOf(s, contextOf, kubeconfigOf), '');
  });
  return out.join('\n');
}

export function writeFiles(runDir: string, files: Record<string, string>): string[] {
  for (const [rel, text] of Object.entries(files)) {
    const f = path.join(runDir, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, text);
  }
  return Object.keys(files).sort();
}
