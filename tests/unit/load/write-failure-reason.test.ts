import { describe, expect, it } from 'vitest';

import { HttpTimeoutError } from '../../../src/core/http-client.js';
import { writeFailureReason } from '../../../src/load/write-failure-reason.js';
import { classifyWriteOutcome } from '../../../src/load/write-outcome.js';

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
  code: 'ECONNREFUSED',
});

describe('writeFailureReason', () => {
  it.each([
    [204, 1, undefined],
    [401, 1, 'auth'],
    [403, 1, 'auth'],
    [400, 1, 'rejected'],
    [422, 4, 'rejected'],
    [413, 4, 'http_4xx'],
    [404, 1, 'http_4xx'],
    [429, 1, 'http_4xx'],
    [500, 1, 'http_5xx'],
    [503, 1, 'http_5xx'],
    [302, 1, 'other'],
  ] as const)('HTTP %i (%i lines) → %s', (status, lines, reason) => {
    const outcome = classifyWriteOutcome({ status, body: '{"error":"x"}' }, lines);
    expect(writeFailureReason(status, outcome)).toBe(reason);
  });

  it('tells no answer apart the way /readyz does, the cause chain included', () => {
    const network = classifyWriteOutcome({ networkError: true }, 1);
    const wrapped = new Error('Could not write', { cause: refused });
    expect(writeFailureReason(undefined, network, wrapped)).toBe('unreachable');
    const timeout = writeFailureReason(
      undefined,
      network,
      new HttpTimeoutError(new URL('http://127.0.0.1:1/write'), 1000),
    );
    expect(timeout).toBe('timeout');
    expect(writeFailureReason(undefined, network, new Error('socket hang up'))).toBe('other');
    const tls = classifyWriteOutcome({ networkError: true, certificateError: 'bad cert' }, 1);
    expect(writeFailureReason(undefined, tls, new Error('bad cert'))).toBe('tls');
  });
});
