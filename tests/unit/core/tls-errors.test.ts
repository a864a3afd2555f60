import { describe, expect, it } from 'vitest';
import { clarifyTlsError, isCertificateError } from '../../../src/core/tls-errors.js';

function tlsError(code: string, message: string, reason?: string): Error {
  return Object.assign(new Error(message), {
    code,
    ...(reason && { library: 'SSL routines', reason }),
  });
}

describe('clarifyTlsError', () => {
  it('adds the setting that fixes an untrusted server certificate', () => {
    const err = tlsError(
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'unable to verify the first certificate',
    );
    clarifyTlsError(err);
    expect(err.message).toBe(
      "unable to verify the first certificate (the server's certificate is not signed by a CA " +
        'promflux trusts: set tls.ca_file to the CA that signed it)',
    );
  });

  it("replaces OpenSSL's dump by its reason for a server's alert", () => {
    const err = tlsError(
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      '80BC25410E7F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate ' +
        'required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 116\n',
      'tlsv13 alert certificate required',
    );
    clarifyTlsError(err);
    expect(err.message).toBe(
      'tlsv13 alert certificate required (the server requires a client certificate: set ' +
        'tls.cert_file and tls.key_file)',
    );
  });

  it('rewrites an error once, however many listeners see it', () => {
    const err = tlsError('ERR_TLS_CERT_ALTNAME_INVALID', 'Hostname/IP does not match: list: ');
    clarifyTlsError(err);
    const once = err.message;
    clarifyTlsError(err);
    expect(err.message).toBe(once);
    expect(once).toMatch(/^Hostname\/IP does not match: list \(.*tls\.server_name to one\)$/);
  });

  it('leaves other errors alone', () => {
    for (const err of [
      tlsError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'),
      tlsError('CERT_HAS_EXPIRED', 'certificate has expired'),
      new Error('no code'),
    ]) {
      const before = err.message;
      clarifyTlsError(err);
      expect(err.message).toBe(before);
    }
  });
});

describe('isCertificateError', () => {
  it('is true for a verification failure, also wrapped, and false for a network error', () => {
    const cert = tlsError('ERR_TLS_CERT_ALTNAME_INVALID', 'Hostname/IP does not match');
    expect(isCertificateError(cert)).toBe(true);
    expect(isCertificateError(new Error('request failed', { cause: cert }))).toBe(true);
    expect(isCertificateError(tlsError('ECONNRESET', 'socket hang up'))).toBe(false);
    expect(isCertificateError('UNABLE_TO_VERIFY_LEAF_SIGNATURE')).toBe(false);
  });
});
