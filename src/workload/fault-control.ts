/**
 * The fault-control endpoint (POST FAULT_PATH): only the harness of this run may use it (the
 * control token), and the body must be a ServiceFault.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { z } from 'zod';
import { CONTROL_TOKEN_HEADER } from './control-token.ts';
import { ServiceFaultSpec, type ServiceFault } from './fault-switch.ts';

type Reply = (res: http.ServerResponse, status: number, body: string, type?: string) => void;

export function faultControl(controlToken: string | undefined, setFault: (f: ServiceFault) => void, reply: Reply) {
  // Without a token (a service started by hand, or in a pod of the kube backend) the endpoint stays open.
  const expected = controlToken === undefined ? undefined : Buffer.from(controlToken);
  const allowed = (req: http.IncomingMessage) => {
    if (!expected) return true;
    const got = Buffer.from(String(req.headers[CONTROL_TOKEN_HEADER] ?? ''));
    return got.length === expected.length && crypto.timingSafeEqual(got, expected);
  };
  const control = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    let parsed: ReturnType<typeof ServiceFaultSpec.safeParse>;
    try {
      parsed = ServiceFaultSpec.safeParse(JSON.parse(body));
    } catch {
      return reply(res, 400, 'expected a JSON body like {"mode":"error503","durationMs":2000}\n');
    }
    if (!parsed.success) return reply(res, 400, `${z.prettifyError(parsed.error)}\n`);
    setFault(parsed.data);
    reply(res, 200, JSON.stringify({ fault: parsed.data }) + '\n', 'application/json');
  };
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (!allowed(req)) return reply(res, 403, 'forbidden: the fault-control endpoint answers only the harness of this run\n');
    control(req, res).catch((e) => reply(res, 500, String(e)));
  };
}
