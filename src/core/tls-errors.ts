/**
 * What to do about a failed TLS handshake, by Node's error code. Node's own text says what
 * happened (`unable to verify the first certificate`) but not which setting fixes it, and for
 * alerts from the server it is an OpenSSL dump with a source path in it.
 */
const UNTRUSTED_CA =
  "the server's certificate is not signed by a CA promflux trusts: set tls.ca_file to the CA that signed it";
const HINTS: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: UNTRUSTED_CA,
  UNABLE_TO_GET_ISSUER_CERT: UNTRUSTED_CA,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: UNTRUSTED_CA,
  SELF_SIGNED_CERT_IN_CHAIN: UNTRUSTED_CA,
  DEPTH_ZERO_SELF_SIGNED_CERT: UNTRUSTED_CA,
  ERR_TLS_CERT_ALTNAME_INVALID:
    "the server's certificate is for another host name: use a name it has in the URL, or set " +
    'tls.server_name to one',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    'the server requires a client certificate: set tls.cert_file and tls.key_file',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA:
    'the server does not trust the client certificate in tls.cert_file (signed by a CA it does ' +
    'not know)',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'the server refused the client certificate in tls.cert_file',
};

/**
 * Whether `err` (or an error it wraps) is a certificate verification failure, at either end: a
 * configuration error that no retry can fix, unlike a refused or reset connection.
 */
export function isCertificateError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && Object.hasOwn(HINTS, code)) return true;
  }
  return false;
}

/** Marks errors already rewritten: one error object can reach several listeners. */
const CLARIFIED = Symbol('promflux.tlsClarified');

/**
 * Rewrites `err.message` in place, for a TLS error with a known code, to the short reason followed
 * by the setting that fixes it; any other error is left alone. In place, because the error object
 * travels on to the request, its retries and the HTTP client wrapping it.
 */
export function clarifyTlsError(
  err: Error & { code?: unknown; library?: unknown; reason?: unknown },
): void {
  const hint = typeof err.code === 'string' ? HINTS[err.code] : undefined;
  if (hint === undefined || (err as { [CLARIFIED]?: true })[CLARIFIED]) return;
  // OpenSSL's errors (with a `library`) carry the short text in `reason`; their message is the
  // whole error queue. Node's own (ERR_TLS_CERT_ALTNAME_INVALID) say it best in their message.
  const openssl = typeof err.library === 'string' && typeof err.reason === 'string';
  const reason = openssl ? String(err.reason) : err.message;
  err.message = `${reason.replace(/[:\s]+$/, '')} (${hint})`;
  Object.defineProperty(err, CLARIFIED, { value: true });
}
