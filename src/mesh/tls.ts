/**
 * mTLS contexts (cluster_tls.go, ConstructSdsSecretConfig). istiod hands certificates out over SDS
 * (secrets "default" and "ROOTCA" from the istio-agent); upstream Envoy has no agent, so the same
 * certificates are read from the per-run CA's files instead. Everything else matches istiod.
 */
import type { IdentityFiles } from './plan.ts';
import type { Json } from './resources.ts';

const TLS_SOCKET = 'envoy.transport_sockets.tls';
const TLS_PARAMS = { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' };

const certificate = (id: IdentityFiles) => ({
  certificate_chain: { filename: id.certChain },
  private_key: { filename: id.privateKey },
});

/** DR tls.mode ISTIO_MUTUAL (or auto-mTLS) on a client-side cluster. */
export function istioMutualUpstream(id: IdentityFiles, sni: string, sans: string[], alpn: string[]): Json {
  const validation: Json = { trusted_ca: { filename: id.rootCert } };
  // istiod puts the SANs in combined_validation_context next to the SDS ROOTCA; with a file CA the
  // plain validation_context carries the same exact-match SAN check, in istiod's (untyped) form.
  if (sans.length) validation.match_subject_alt_names = sans.map((s) => ({ exact: s }));
  return {
    name: TLS_SOCKET,
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      sni,
      common_tls_context: {
        alpn_protocols: alpn,
        tls_params: TLS_PARAMS,
        tls_certificates: [certificate(id)],
        validation_context: validation,
      },
    },
  };
}

/** DR tls.mode SIMPLE / MUTUAL: user-supplied files, as istiod passes them through. */
export function userTlsUpstream(tls: Json, sni: string | undefined): Json {
  const common: Json = {};
  if (tls.mode === 'MUTUAL' && tls.clientCertificate) {
    common.tls_certificates = [{ certificate_chain: { filename: tls.clientCertificate }, private_key: { filename: tls.privateKey } }];
  }
  if (tls.caCertificates) {
    common.validation_context = { trusted_ca: { filename: tls.caCertificates } };
    if (tls.subjectAltNames?.length)
      common.validation_context.match_typed_subject_alt_names = tls.subjectAltNames.map((s: string) => ({
        san_type: 'DNS',
        matcher: { exact: s },
      }));
  }
  const ctx: Json = {
    '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
    common_tls_context: common,
  };
  if (tls.sni ?? sni) ctx.sni = tls.sni ?? sni;
  return { name: TLS_SOCKET, typed_config: ctx };
}

export const rawBufferSocket = () => ({
  name: 'envoy.transport_sockets.raw_buffer',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' },
});

/** ALPNs a sidecar's inbound mTLS chain matches on (allIstioMtlsALPNs). */
export const ISTIO_MTLS_ALPNS = ['istio', 'istio-peer-exchange', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'];

/** istiod's inbound cipher list (SupportedCiphers in security/pkg/pki/util). */
export const INBOUND_CIPHER_SUITES = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-GCM-SHA256',
];

/**
 * A sidecar's inbound mTLS termination: client certificate from the mesh CA required, and (as istiod
 * does) a SPIFFE identity of the mesh's trust domain.
 */
export function istioMutualDownstream(id: IdentityFiles): Json {
  const trustDomain = /^spiffe:\/\/([^/]+)/.exec(id.spiffe)?.[1] ?? 'cluster.local';
  return {
    name: TLS_SOCKET,
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      require_client_certificate: true,
      common_tls_context: {
        alpn_protocols: ['h2', 'http/1.1'],
        tls_params: { ...TLS_PARAMS, cipher_suites: INBOUND_CIPHER_SUITES },
        tls_certificates: [certificate(id)],
        validation_context: { trusted_ca: { filename: id.rootCert }, match_subject_alt_names: [{ prefix: `spiffe://${trustDomain}/` }] },
      },
    },
  };
}
