/**
 * istio/api's HTTPRoute action messages (networking/v1alpha3/virtual_service.proto): the structure
 * of mirror, mirrors, rewrite, redirect, directResponse, headers and corsPolicy. Value rules
 * istiod's validation adds (percentages, header names, conflicts) are in validate-routes.ts.
 */
import { z } from 'zod';
import { ISTIO_DURATION_RE } from '../util/duration.ts';

const duration = z.string().regex(ISTIO_DURATION_RE, { message: 'not an Istio duration' });
const port = z.strictObject({ number: z.number().int().min(0).max(65535).optional() });
const stringMatch = z.strictObject({ exact: z.string().optional(), prefix: z.string().optional(), regex: z.string().optional() });

export const destination = z.strictObject({ host: z.string(), subset: z.string().optional(), port: port.optional() });
/** istio.networking.v1.Percent: a double, range checked in validate-routes.ts. */
export const percentValue = z.strictObject({ value: z.number() });

const headerOperations = z.strictObject({
  set: z.record(z.string(), z.string()).optional(),
  add: z.record(z.string(), z.string()).optional(),
  remove: z.array(z.string()).optional(),
});
export const headers = z.strictObject({ request: headerOperations.optional(), response: headerOperations.optional() });

export const routeActionFields = {
  mirror: destination.optional(),
  mirrors: z.array(z.strictObject({ destination, percentage: percentValue.optional() })).optional(),
  // google.protobuf.UInt32Value (deprecated): a number in YAML, or {value}.
  mirrorPercent: z.union([z.number().int(), z.strictObject({ value: z.number().int() })]).optional(),
  mirrorPercentage: percentValue.optional(),
  rewrite: z
    .strictObject({
      uri: z.string().optional(),
      authority: z.string().optional(),
      uriRegexRewrite: z.strictObject({ match: z.string().optional(), rewrite: z.string().optional() }).optional(),
    })
    .optional(),
  redirect: z
    .strictObject({
      uri: z.string().optional(),
      authority: z.string().optional(),
      port: z.number().int().min(0).max(65535).optional(),
      derivePort: z.enum(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT']).optional(),
      scheme: z.string().optional(),
      redirectCode: z.number().int().optional(),
      prefixRewrite: z.string().optional(),
    })
    .optional(),
  directResponse: z
    .strictObject({
      status: z.number().int(),
      body: z.strictObject({ string: z.string().optional(), bytes: z.string().optional() }).optional(),
    })
    .optional(),
  headers: headers.optional(),
  corsPolicy: z
    .strictObject({
      allowOrigin: z.array(z.string()).optional(),
      allowOrigins: z.array(stringMatch).optional(),
      allowMethods: z.array(z.string()).optional(),
      allowHeaders: z.array(z.string()).optional(),
      exposeHeaders: z.array(z.string()).optional(),
      maxAge: duration.optional(),
      allowCredentials: z.boolean().optional(),
      unmatchedPreflights: z.enum(['UNSPECIFIED', 'FORWARD', 'IGNORE']).optional(),
    })
    .optional(),
};
