/**
 * k6-operator's TestRun (k6.io/v1alpha1), transcribed from grafana/k6-operator
 * api/v1alpha1/testrun_types.go (v1.x; see shared facts k6-semantics §5.2) for the fields the
 * backend writes. Pod specs (runner/starter/initializer) are passed to Kubernetes as-is by the
 * operator, so only their shape is checked here.
 */
import { z } from 'zod';
import type { ProblemDetail } from '../../errors.ts';

const podSpec = z
  .object({
    image: z.string().optional(),
    env: z.array(z.object({ name: z.string(), value: z.string().optional() }).passthrough()).optional(),
    metadata: z
      .object({ labels: z.record(z.string(), z.string()).optional(), annotations: z.record(z.string(), z.string()).optional() })
      .strict()
      .optional(),
    serviceAccountName: z.string().optional(),
    resources: z.object({}).passthrough().optional(),
  })
  .passthrough();

const TestRunSpec = z.strictObject({
  script: z.union([
    z.strictObject({ configMap: z.strictObject({ name: z.string().min(1), file: z.string().min(1) }) }),
    z.strictObject({ volumeClaim: z.strictObject({ name: z.string().min(1), file: z.string().min(1), readOnly: z.boolean().optional() }) }),
    z.strictObject({ localFile: z.string().min(1) }),
  ]),
  parallelism: z.number().int().min(1),
  separate: z.boolean().optional(),
  arguments: z.string().optional(),
  args: z.array(z.string()).optional(),
  quiet: z.string().optional(),
  paused: z.string().optional(),
  cleanup: z.literal('post').optional(),
  runner: podSpec.optional(),
  starter: podSpec.optional(),
  initializer: podSpec.extend({ disabled: z.boolean().optional() }).optional(),
});

const TestRun = z.object({
  apiVersion: z.literal('k6.io/v1alpha1'),
  kind: z.literal('TestRun'),
  metadata: z.object({ name: z.string().min(1), namespace: z.string().optional() }).passthrough(),
  spec: TestRunSpec,
});

export function validateTestRun(obj: unknown, where: string): ProblemDetail[] {
  const r = TestRun.safeParse(obj);
  if (r.success) return [];
  return r.error.issues.map((i) => ({
    file: where,
    path: i.path.join('.'),
    message: `TestRun does not match the k6.io/v1alpha1 schema: ${i.message}`,
    fix: 'fix the TestRun generator in src/runner/kube/load-manifests.ts',
  }));
}
