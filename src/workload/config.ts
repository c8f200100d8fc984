/**
 * The configuration of one service instance (A or B), as the runner hands it to the child process.
 * The capacity part is the experiment's own `CapacitySpec`, so the two cannot drift apart.
 */
import { z } from 'zod';
import { SpilloverError } from '../errors.ts';
import { CapacitySpec } from '../experiment/schema.ts';

// The local backend only ever binds loopback; refusing anything else here keeps a typo off the LAN.
const loopbackIp = z
  .string()
  .regex(/^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$|^::1$/, { error: 'expected a loopback address (127.x.y.z or ::1)' });

export const ServiceConfigSpec = z.strictObject({
  /** Experiment-level service name, sent back as `x-spillover-service` (e.g. "A"). */
  name: z.string().min(1),
  /** Which instance served, sent back as `x-spillover-instance` (e.g. "a-0"). */
  instance: z.string().min(1),
  listen: z.strictObject({ ip: loopbackIp, port: z.number().int().min(0).max(65535) }),
  /** The experiment's capacity model; `seed` may sit here or at the top level. */
  capacity: CapacitySpec.extend({ seed: z.number().int().min(0).optional() }),
  /** Seeds the service-time distribution (default 1). */
  seed: z.number().int().min(0).optional(),
});

export type ServiceConfigInput = z.input<typeof ServiceConfigSpec>;
export type ServiceConfig = z.infer<typeof ServiceConfigSpec>;
export type ServiceTime = ServiceConfig['capacity']['serviceTime'];

export const effectiveSeed = (c: ServiceConfig) => c.capacity.seed ?? c.seed ?? 1;

/** Validate a service config; every problem is reported with its field path. */
export function parseServiceConfig(input: unknown, file = '<service config>'): ServiceConfig {
  const r = ServiceConfigSpec.safeParse(input);
  if (r.success) return r.data;
  throw new SpilloverError(
    r.error.issues.map((i) => ({
      file,
      path: i.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
        .join('.')
        .replace(/\.\[/g, '['),
      message: i.message,
      fix: 'see ServiceConfigSpec in src/workload/config.ts',
    })),
  );
}
