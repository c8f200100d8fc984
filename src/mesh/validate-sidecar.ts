/**
 * istiod's ValidateSidecar rules on egress (pkg/config/validation: ValidateSidecar,
 * ValidateNamespaceSlashWildcardHostname): every egress listener has hosts, each of the form
 * `namespace/dnsName` with namespace `*`, `.`, `~` or a name and dnsName `*`, `*.suffix` or an FQDN
 * (no short names, no partial wildcards); a Sidecar must configure something.
 */
import type { ProblemDetail } from '../errors.ts';
import type { Json } from './resources.ts';

const FORMS =
  '"namespace/dnsName": "./*" (the Sidecar\'s namespace), "*/*" (every namespace), "bookinfo/reviews.bookinfo.svc.cluster.local", "~/*" (nothing)';
const DNS = /^(\*|(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+\.?)$/i;

export function sidecarChecks(spec: Json, at: string, file: string): ProblemDetail[] {
  const out: ProblemDetail[] = [];
  const add = (path: string, message: string, expected: string, found: string, fix: string) =>
    out.push({ file, path: `${at}.spec${path}`, message, expected, found, fix });
  if (!spec?.egress?.length && !spec?.ingress?.length && !spec?.outboundTrafficPolicy && !spec?.inboundConnectionPool)
    add(
      '',
      'Istio rejects an empty Sidecar ("sidecar: empty configuration provided")',
      'egress, ingress, outboundTrafficPolicy or inboundConnectionPool',
      '{}',
      'add egress: [{ hosts: ["./*"] }] or remove the Sidecar',
    );
  ((spec?.egress ?? []) as Json[]).forEach((l, i) => {
    const hosts: unknown[] = Array.isArray(l?.hosts) ? l.hosts : [];
    if (!hosts.length)
      add(
        `.egress[${i}].hosts`,
        'Istio rejects an egress listener without hosts',
        `at least one host, ${FORMS}`,
        '[]',
        'add hosts: ["./*"]',
      );
    hosts.forEach((h, j) => {
      const why = badHost(String(h));
      if (why) add(`.egress[${i}].hosts[${j}]`, `not an egress host Istio accepts: ${why}`, FORMS, JSON.stringify(h), fixFor(String(h)));
    });
    if (l?.port === undefined && i !== (spec.egress as Json[]).length - 1)
      add(
        `.egress[${i}].port`,
        'Istio rejects an egress listener without port unless it is the last one',
        'the catch-all listener (no port) last',
        'a listener without port before others',
        'move this listener to the end of egress',
      );
  });
  return out;
}

function badHost(h: string): string | undefined {
  const parts = h.split('/');
  if (parts.length !== 2) return 'the host must be of the form namespace/dnsName';
  const [ns, name] = parts;
  if (!ns || !name) return 'namespace and dnsName must both be set';
  const bareNs = ns.startsWith('~') ? ns.slice(1) : ns;
  if (bareNs && bareNs !== '*' && bareNs !== '.' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(bareNs))
    return `"${ns}" is not a namespace, "*", "." or "~"`;
  if (name !== '*' && !name.includes('.')) return 'short names (non FQDN) are not allowed';
  if (!DNS.test(name)) return `"${name}" is not a DNS name or a leading "*." wildcard`;
  return undefined;
}

const fixFor = (h: string) => {
  const [ns, name] = h.split('/');
  if (name && !name.includes('.') && name !== '*')
    return `write the FQDN, e.g. "${ns}/${name}.${ns === '.' || ns === '*' ? '<namespace>' : ns}.svc.cluster.local"`;
  if (!h.includes('/')) return `prefix the namespace, e.g. "*/${h}" or "./${h}"`;
  return 'use one of the expected forms';
};
