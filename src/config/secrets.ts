/**
 * Secrets given inline or in files (`token_file`, `password_file`, `bearer_token_file`): read the
 * files, check that other referenced files (TLS material) are readable, and report problems by
 * key and file path, never by content.
 */
import { access, constants, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ConfigIssue } from '../core/errors.js';
import type { Credentials } from '../core/redact.js';
import { formatPath } from './schema/key-path.js';

/** Keys holding a secret; each may instead be given as `<key>_file`. */
export const SECRET_KEYS: readonly (readonly string[])[] = [
  ['extract', 'basic_auth', 'password'],
  ['extract', 'bearer_token'],
  ['load', 'influxdb', 'token'],
  ['load', 'influxdb', 'password'],
  ['server', 'auth', 'bearer_token'],
  ['server', 'auth', 'basic_auth', 'password'],
];

/** Files that must exist and be readable when set. */
export const TLS_FILE_KEYS: readonly (readonly string[])[] = [
  ['extract', 'tls', 'ca_file'],
  ['extract', 'tls', 'cert_file'],
  ['extract', 'tls', 'key_file'],
  ['load', 'influxdb', 'tls', 'ca_file'],
  ['load', 'influxdb', 'tls', 'cert_file'],
  ['load', 'influxdb', 'tls', 'key_file'],
];

export interface ResolvedSecrets {
  /** Secret values by key path (`load.influxdb.token`), whether inline or read from a file. */
  values: Map<string, string>;
  issues: ConfigIssue[];
  /** `path: message` lines, e.g. a secret file readable by other users. */
  warnings: string[];
}

function lookup(doc: unknown, path: readonly string[]): unknown {
  let node = doc;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/** A filesystem error as a short phrase: the code and what it means, never file content. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file (ENOENT)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'EISDIR':
      return 'is a directory, not a file (EISDIR)';
    case 'ENOTDIR':
      return 'a parent of the path is not a directory (ENOTDIR)';
    default:
      return code ? `cannot be read (${code})` : 'cannot be read';
  }
}

/**
 * Reads a secret file: its content with one trailing newline removed (editors and `echo` add one),
 * and its permission bits.
 */
export async function readSecretFile(file: string): Promise<{ value: string; mode: number }> {
  const [content, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
  return { value: content.replace(/\r?\n$/, ''), mode: info.mode & 0o777 };
}

/**
 * Resolves every secret key of the (interpolated) document: the inline value, or the content of
 * its `_file` (relative to `baseDir`). Setting both is an issue; so is an unreadable or empty file.
 * A file readable by group or others is allowed, with a warning.
 */
export async function resolveSecrets(doc: unknown, baseDir: string): Promise<ResolvedSecrets> {
  const perKey = await Promise.all(SECRET_KEYS.map((path) => resolveSecret(doc, path, baseDir)));
  const result: ResolvedSecrets = { values: new Map(), issues: [], warnings: [] };
  perKey.forEach((one, i) => {
    if (one.value !== undefined) result.values.set(formatPath(SECRET_KEYS[i]!), one.value);
    result.issues.push(...one.issues);
    result.warnings.push(...one.warnings);
  });
  return result;
}

async function resolveSecret(
  doc: unknown,
  valuePath: readonly string[],
  baseDir: string,
): Promise<{ value?: string; issues: ConfigIssue[]; warnings: string[] }> {
  const key = valuePath[valuePath.length - 1]!;
  const filePath = [...valuePath.slice(0, -1), `${key}_file`];
  const inline = lookup(doc, valuePath);
  const fileSetting = lookup(doc, filePath);
  const fileKey = formatPath(filePath);
  const fail = (message: string) => ({ issues: [{ path: fileKey, message }], warnings: [] });
  if (isSet(inline) && isSet(fileSetting))
    return fail(`set either ${key} or ${key}_file, not both`);
  if (typeof inline === 'string' && inline !== '')
    return { value: inline, issues: [], warnings: [] };
  if (typeof fileSetting !== 'string' || fileSetting.trim() === '')
    return { issues: [], warnings: [] };

  const file = resolve(baseDir, fileSetting);
  let secret: { value: string; mode: number };
  try {
    secret = await readSecretFile(file);
  } catch (err) {
    return fail(`cannot read "${file}": ${describeFsError(err)}`);
  }
  if (secret.value.trim() === '') return fail(`"${file}" is empty (expected the ${key})`);
  const warnings: string[] = [];
  if (process.platform !== 'win32' && (secret.mode & 0o044) !== 0) {
    const mode = secret.mode.toString(8).padStart(4, '0');
    warnings.push(
      `${fileKey}: "${file}" is readable by group or others (mode ${mode}); restrict it with chmod 600`,
    );
  }
  return { value: secret.value, issues: [], warnings };
}

/** Issues for each of `keys` that names a file (relative to `baseDir`) this process cannot read. */
export async function unreadableFileIssues(
  doc: unknown,
  baseDir: string,
  keys: readonly (readonly string[])[],
): Promise<ConfigIssue[]> {
  const issues = await Promise.all(
    keys.map(async (path): Promise<ConfigIssue | undefined> => {
      const setting = lookup(doc, path);
      if (typeof setting !== 'string' || setting.trim() === '') return undefined;
      const file = resolve(baseDir, setting);
      try {
        await access(file, constants.R_OK);
        if ((await stat(file)).isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
        return undefined;
      } catch (err) {
        return {
          path: formatPath(path),
          message: `cannot read "${file}": ${describeFsError(err)}`,
        };
      }
    }),
  );
  return issues.filter((i): i is ConfigIssue => i !== undefined);
}

/**
 * Every secret of the (interpolated, overridden) document in the forms promflux sends it: the
 * resolved secret keys, Basic auth pairs, custom header values (and the credential after a
 * `Bearer`/`Token`/`Basic` scheme in one), and passwords in URLs.
 */
export function documentCredentials(
  doc: unknown,
  resolved: ReadonlyMap<string, string>,
): Credentials {
  const secrets = [...resolved.values()];
  const basic: { username: string; password: string }[] = [];
  const text = (path: readonly string[]): string | undefined => {
    const value = lookup(doc, path);
    return typeof value === 'string' ? value : undefined;
  };
  for (const prefix of [
    ['extract', 'basic_auth'],
    ['load', 'influxdb'],
    ['server', 'auth', 'basic_auth'],
  ]) {
    const username = text([...prefix, 'username']);
    const password = resolved.get(formatPath([...prefix, 'password']));
    if (username) basic.push({ username, password: password ?? '' });
  }
  for (const path of [
    ['extract', 'headers'],
    ['load', 'influxdb', 'headers'],
  ]) {
    const headers = lookup(doc, path);
    if (typeof headers !== 'object' || headers === null) continue;
    for (const value of Object.values(headers)) {
      if (typeof value !== 'string') continue;
      secrets.push(value);
      const credential = /^(?:bearer|token|basic)\s+(\S.*)$/i.exec(value.trim())?.[1];
      if (credential) secrets.push(credential);
    }
  }
  for (const path of [
    ['extract', 'prometheus_url'],
    ['load', 'influxdb', 'url'],
  ]) {
    const userinfo = urlUserinfo(text(path));
    if (!userinfo) continue;
    basic.push(userinfo);
    secrets.push(userinfo.password || userinfo.username, userinfo.encodedPassword);
  }
  return { secrets, basic };
}

/**
 * The decoded user and password of a URL (node sends them as Basic auth), and the password as the
 * URL spells it, if it has any.
 */
function urlUserinfo(
  url: string | undefined,
): { username: string; password: string; encodedPassword: string } | undefined {
  if (url === undefined) return undefined;
  try {
    const { username, password } = new URL(url);
    if (!username && !password) return undefined;
    return {
      username: decodeURIComponent(username),
      password: decodeURIComponent(password),
      encodedPassword: password,
    };
  } catch {
    return undefined; // not a URL: the schema reports it
  }
}
