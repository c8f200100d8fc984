/**
 * Why the driver ended a request itself, and how any request error is named in the record (raw.ts
 * `error` and `cut`). The cuts are errors so that undici's abort delivers them to the handler's
 * onError like any other failure, and the record is written in one place.
 */

/** `cut`: why the driver cut the request, recorded as the record's `cut` field (raw.ts). */
export class RequestTimeout extends Error {
  readonly cut = 'timeout';
  constructor() {
    super('request timeout');
    this.name = 'RequestTimeout';
  }
}

export class Interrupted extends Error {
  constructor(
    why: string,
    readonly cut: 'gracefulStop' | 'gracefulRampDown' | 'abort' | 'exit',
  ) {
    super(why);
    this.name = 'Interrupted';
  }
}

/** raw.ts error kinds from undici / Node errors. */
export function errorKind(e: unknown): string {
  if (e instanceof RequestTimeout) return 'timeout';
  if (e instanceof Interrupted) return 'aborted';
  const err = e as { code?: string; name?: string; cause?: { code?: string } };
  const code = err?.code ?? err?.cause?.code;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return 'reset';
    case 'ECONNREFUSED':
      return 'refused';
    case 'UND_ERR_ABORTED':
    case 'UND_ERR_DESTROYED':
    case 'UND_ERR_CLOSED':
    case 'ABORT_ERR':
      return 'aborted';
  }
  if (err?.name === 'AbortError') return 'aborted';
  // OpenSSL's certificate and handshake failures (ERR_TLS_*, ERR_SSL_*, CERT_*, *_CERT*, EPROTO).
  if (code && /^(ERR_TLS_|ERR_SSL_|CERT_|EPROTO$)|CERT|_SIGNATURE$|SELF_SIGNED/.test(code)) return 'tls';
  return 'other';
}
