import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A certificate and its private key, as PEM files. */
export interface CertFiles {
  cert: string;
  key: string;
}

/** Paths of a throwaway PKI made by {@link generateTestPki}. */
export interface TestPki {
  /** The test CA's certificate: what `tls.ca_file` names. */
  caFile: string;
  /** Server certificate for 127.0.0.1 and localhost (subjectAltName IP and DNS). */
  server: CertFiles;
  /** Server certificate signed by the same CA for {@link OTHER_HOST} only. */
  otherHost: CertFiles;
  /** Client certificate (extendedKeyUsage clientAuth) signed by the same CA, for mTLS. */
  client: CertFiles;
}

/** The one name {@link TestPki.otherHost} is valid for; it resolves nowhere. */
export const OTHER_HOST = 'influx.promflux-test.invalid';

const run = promisify(execFile);

/**
 * A CA and three certificates it signed, made with the system's `openssl` in `dir` (P-256 keys,
 * valid two days). Nothing is installed anywhere: only a client told about `caFile` trusts them.
 */
export async function generateTestPki(dir: string): Promise<TestPki> {
  const path = (name: string): string => join(dir, name);
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...newKey,
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=promflux test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  let serial = 1;
  const issue = async (name: string, cn: string, extensions: string): Promise<CertFiles> => {
    const files = { cert: path(`${name}.pem`), key: path(`${name}.key`) };
    await run('openssl', [
      'req',
      ...newKey,
      '-keyout',
      files.key,
      '-out',
      path(`${name}.csr`),
      '-subj',
      `/CN=${cn}`,
    ]);
    await writeFile(path(`${name}.ext`), extensions);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path('ca.pem'),
      '-CAkey',
      path('ca.key'),
      '-set_serial',
      String(serial++),
      '-days',
      '2',
      '-extfile',
      path(`${name}.ext`),
      '-out',
      files.cert,
    ]);
    return files;
  };
  return {
    caFile: path('ca.pem'),
    server: await issue(
      'server',
      'localhost',
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    ),
    otherHost: await issue(
      'other-host',
      OTHER_HOST,
      `subjectAltName=DNS:${OTHER_HOST}\nextendedKeyUsage=serverAuth\n`,
    ),
    client: await issue('client', 'promflux', 'extendedKeyUsage=clientAuth\n'),
  };
}
