import { createHash, timingSafeEqual } from 'node:crypto';

import type { ServerAuthConfig } from '../config/types.js';

/** Paths a probe must reach without credentials, whatever `server.auth` says. */
const PROBE_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

/** Whether `path` of the status server needs credentials under `auth` (none configured: never). */
export function requiresAuth(path: string, auth: ServerAuthConfig | undefined): boolean {
  if (!auth || PROBE_PATHS.has(path)) return false;
  if (path === '/metrics') return auth.protectMetrics;
  return true;
}

/**
 * Whether an `Authorization` header carries the configured bearer token or Basic credentials.
 * Compared in constant time: SHA-256 digests (equal lengths whatever the input) through
 * `timingSafeEqual`, and both halves of a Basic pair are always compared.
 */
export function isAuthorized(header: string | undefined, auth: ServerAuthConfig): boolean {
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(header ?? '');
  if (!match) return false;
  const scheme = match[1]!.toLowerCase();
  const credential = match[2]!;
  if (scheme === 'bearer') {
    return auth.bearerToken !== undefined && sameText(credential, auth.bearerToken);
  }
  if (scheme === 'basic' && auth.basic) {
    const decoded = Buffer.from(credential, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = sameText(decoded.slice(0, colon), auth.basic.username);
    const password = sameText(decoded.slice(colon + 1), auth.basic.password);
    return user && password;
  }
  return false;
}

/** `WWW-Authenticate` challenges for a 401: one per scheme the configuration accepts (RFC 9110). */
export function authChallenges(auth: ServerAuthConfig): string[] {
  const challenges: string[] = [];
  if (auth.bearerToken !== undefined) challenges.push('Bearer realm="promflux"');
  if (auth.basic) challenges.push('Basic realm="promflux", charset="UTF-8"');
  return challenges;
}

function sameText(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
