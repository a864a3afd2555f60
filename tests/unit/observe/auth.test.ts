import { describe, expect, it } from 'vitest';
import type { ServerAuthConfig } from '../../../src/config/types.js';
import { authChallenges, isAuthorized, requiresAuth } from '../../../src/observe/auth.js';

const TOKEN = 'status-bearer-7Qk2';
const both: ServerAuthConfig = {
  bearerToken: TOKEN,
  basic: { username: 'ops', password: 'pa:ss wörd' },
  protectMetrics: false,
};
const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

describe('server.auth', () => {
  it.each([
    ['/status', true],
    ['/', true],
    ['/nope', true],
    ['/metrics', false],
    ['/healthz', false],
    ['/readyz', false],
  ])('%s requires credentials: %s (metrics open by default)', (path, required) => {
    expect(requiresAuth(path, both)).toBe(required);
    expect(requiresAuth(path, undefined)).toBe(false);
  });

  it('protect_metrics closes /metrics, never the probes', () => {
    const closed = { ...both, protectMetrics: true };
    expect(requiresAuth('/metrics', closed)).toBe(true);
    expect(requiresAuth('/healthz', closed)).toBe(false);
    expect(requiresAuth('/readyz', closed)).toBe(false);
  });

  it.each([
    [`Bearer ${TOKEN}`, true],
    [`bearer ${TOKEN}`, true],
    [`  Bearer   ${TOKEN}  `, true],
    [`Bearer ${TOKEN}x`, false],
    [`Bearer ${TOKEN.slice(0, -1)}`, false],
    [`Token ${TOKEN}`, false],
    [TOKEN, false],
    ['Bearer', false],
    ['', false],
    [basic('ops', 'pa:ss wörd'), true],
    [basic('ops', 'pa:ss'), false],
    [basic('Ops', 'pa:ss wörd'), false],
    [basic('ops', ''), false],
    [`Basic ${Buffer.from('ops').toString('base64')}`, false],
    ['Basic !!!notbase64', false],
  ])('%j → %s', (header, ok) => {
    expect(isAuthorized(header, both)).toBe(ok);
  });

  it('accepts only the schemes configured', () => {
    const bearerOnly: ServerAuthConfig = { bearerToken: TOKEN, protectMetrics: false };
    expect(isAuthorized(basic('ops', 'pa:ss wörd'), bearerOnly)).toBe(false);
    expect(isAuthorized(undefined, bearerOnly)).toBe(false);
    const basicOnly: ServerAuthConfig = { basic: both.basic, protectMetrics: false };
    expect(isAuthorized(`Bearer ${TOKEN}`, basicOnly)).toBe(false);
    expect(isAuthorized(basic('ops', 'pa:ss wörd'), basicOnly)).toBe(true);
  });

  it('challenges with each configured scheme', () => {
    expect(authChallenges(both)).toEqual([
      'Bearer realm="promflux"',
      'Basic realm="promflux", charset="UTF-8"',
    ]);
    expect(authChallenges({ bearerToken: TOKEN, protectMetrics: false })).toEqual([
      'Bearer realm="promflux"',
    ]);
  });
});
