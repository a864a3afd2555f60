import { describe, expect, it } from 'vitest';

import { serverErrorMessage } from '../../../src/core/influx-http.js';
import {
  classifyWriteOutcome,
  type WriteOutcome,
  type WriteResponse,
} from '../../../src/load/write-outcome.js';

const v2 = (code: string, message: string): string => JSON.stringify({ code, message });
const v1 = (error: string): string => JSON.stringify({ error });

/** [case, response, lines, expected outcome]: the whole status → action table. */
const TABLE: [string, WriteResponse, number, WriteOutcome][] = [
  ['204 accept', { status: 204 }, 10, { action: 'accept' }],
  ['200 accept', { status: 200 }, 1, { action: 'accept' }],
  [
    '400 2.x parse error, many lines: bisect',
    { status: 400, body: v2('invalid', "unable to parse 'x': missing fields") },
    10,
    { action: 'bisect' },
  ],
  [
    '400 2.x parse error, one line: reject with the server message',
    { status: 400, body: v2('invalid', "unable to parse 'x': missing fields") },
    1,
    { action: 'reject', reason: "unable to parse 'x': missing fields" },
  ],
  [
    '400 1.x partial write: bisect',
    {
      status: 400,
      body: v1("partial write: unable to parse 'bad line': invalid field format dropped=0"),
    },
    3,
    { action: 'bisect' },
  ],
  [
    '400 1.x type conflict covering every line: reject at once',
    {
      status: 400,
      body: v1(
        'partial write: field type conflict: input field "f" on measurement "m" is type string, already exists as type float dropped=2',
      ),
    },
    2,
    {
      action: 'reject',
      reason:
        'partial write: field type conflict: input field "f" on measurement "m" is type string, already exists as type float dropped=2',
    },
  ],
  [
    '422 2.x partial write: bisect',
    {
      status: 422,
      body: v2(
        'unprocessable entity',
        'failure writing points to database: partial write: field type conflict dropped=1',
      ),
    },
    5,
    { action: 'bisect' },
  ],
  [
    '422 2.x beyond retention, dropped = lines: accept, every line skipped',
    {
      status: 422,
      body: v2(
        'unprocessable entity',
        'failure writing points to database: partial write: points beyond retention policy dropped=5',
      ),
    },
    5,
    { action: 'accept', beyondRetention: 5 },
  ],
  [
    '422 2.x beyond retention, some lines: accept, no bisection',
    {
      status: 422,
      body: v2(
        'unprocessable entity',
        'failure writing points to database: partial write: points beyond retention policy dropped=2',
      ),
    },
    7,
    { action: 'accept', beyondRetention: 2 },
  ],
  [
    '400 1.x beyond retention (as 1.6.7 answers it): accept, not a request-level failure',
    { status: 400, body: v1('partial write: points beyond retention policy dropped=1') },
    3,
    { action: 'accept', beyondRetention: 1 },
  ],
  [
    '400 1.x beyond retention, one line: accept, not reject',
    { status: 400, body: v1('partial write: points beyond retention policy dropped=1') },
    1,
    { action: 'accept', beyondRetention: 1 },
  ],
  [
    'beyond retention counting more than the request holds: capped at its lines',
    { status: 400, body: v1('partial write: points beyond retention policy dropped=9') },
    4,
    { action: 'accept', beyondRetention: 4 },
  ],
  [
    '1.x beyond retention in the X-Influxdb-Error header only',
    {
      status: 400,
      headers: { 'x-influxdb-error': 'partial write: points beyond retention policy dropped=2' },
    },
    2,
    { action: 'accept', beyondRetention: 2 },
  ],
  [
    '422 one line: reject',
    { status: 422, body: v2('unprocessable entity', 'partial write: x dropped=1') },
    1,
    { action: 'reject', reason: 'partial write: x dropped=1' },
  ],
  [
    '400 database is required (1.x): request-level, fail',
    { status: 400, body: v1('database is required') },
    10,
    {
      action: 'fail',
      code: 'SINK_WRITE_FAILED',
      reason: 'request refused (400): database is required',
    },
  ],
  [
    '400 invalid precision: request-level, fail',
    {
      status: 400,
      body: v2('invalid', 'invalid precision; valid precision units are ns, us, ms, and s'),
    },
    10,
    {
      action: 'fail',
      code: 'SINK_WRITE_FAILED',
      reason:
        'request refused (400): invalid precision; valid precision units are ns, us, ms, and s',
    },
  ],
  [
    '400 bad gzip (2.x): request-level, fail',
    { status: 400, body: v2('invalid', 'gzipped HTTP body contains an invalid header') },
    10,
    {
      action: 'fail',
      code: 'SINK_WRITE_FAILED',
      reason: 'request refused (400): gzipped HTTP body contains an invalid header',
    },
  ],
  [
    '413 many lines: split',
    {
      status: 413,
      body: v2('request too large', 'unable to read data: points batch is too large'),
    },
    2,
    { action: 'split' },
  ],
  [
    '413 one line: reject',
    {
      status: 413,
      body: v2('request too large', 'unable to read data: points batch is too large'),
    },
    1,
    { action: 'reject', reason: 'unable to read data: points batch is too large' },
  ],
  [
    '401: fail SINK_AUTH',
    { status: 401, body: v2('unauthorized', 'unauthorized access') },
    10,
    {
      action: 'fail',
      code: 'SINK_AUTH',
      reason: 'authentication failed (401): unauthorized access',
    },
  ],
  [
    '403: fail SINK_AUTH',
    { status: 403, body: v2('forbidden', 'insufficient permissions for write') },
    10,
    {
      action: 'fail',
      code: 'SINK_AUTH',
      reason: 'permission denied (403): insufficient permissions for write',
    },
  ],
  [
    '404 2.x bucket: fail SINK_NOT_FOUND',
    { status: 404, body: v2('not found', 'bucket "x" not found') },
    10,
    { action: 'fail', code: 'SINK_NOT_FOUND', reason: 'not found (404): bucket "x" not found' },
  ],
  [
    '404 1.x database: fail SINK_NOT_FOUND',
    { status: 404, body: v1('database not found: "nope"') },
    10,
    {
      action: 'fail',
      code: 'SINK_NOT_FOUND',
      reason: 'not found (404): database not found: "nope"',
    },
  ],
  [
    '429 with Retry-After: retry after it',
    { status: 429, retryAfterMs: 2000 },
    10,
    { action: 'retry', afterMs: 2000 },
  ],
  ['429 without Retry-After: retry', { status: 429 }, 10, { action: 'retry' }],
  [
    '503 with Retry-After: retry after it',
    { status: 503, retryAfterMs: 30_000 },
    10,
    { action: 'retry', afterMs: 30_000 },
  ],
  [
    '500: retry',
    { status: 500, body: v2('internal error', 'engine: cache-max-memory-size exceeded') },
    10,
    { action: 'retry' },
  ],
  [
    '500 1.x retention policy not found: fail SINK_NOT_FOUND',
    { status: 500, body: v1('retention policy not found: zz') },
    10,
    {
      action: 'fail',
      code: 'SINK_NOT_FOUND',
      reason: 'not found (500): retention policy not found: zz',
    },
  ],
  ['502: retry', { status: 502 }, 10, { action: 'retry' }],
  ['504: retry', { status: 504 }, 10, { action: 'retry' }],
  ['408: retry', { status: 408 }, 10, { action: 'retry' }],
  ['network error: retry', { networkError: true }, 10, { action: 'retry' }],
  [
    'certificate verification failure: fail, a retry cannot fix it',
    { networkError: true, certificateError: 'unable to verify the first certificate' },
    10,
    { action: 'fail', code: 'SINK_WRITE_FAILED', reason: 'unable to verify the first certificate' },
  ],
  ['no status at all: retry', {}, 10, { action: 'retry' }],
  [
    '405: fail SINK_WRITE_FAILED',
    { status: 405, body: v2('method not allowed', 'allow: POST') },
    10,
    { action: 'fail', code: 'SINK_WRITE_FAILED', reason: 'unexpected response (405): allow: POST' },
  ],
  [
    '301 redirect: fail SINK_WRITE_FAILED',
    { status: 301, body: '' },
    10,
    { action: 'fail', code: 'SINK_WRITE_FAILED', reason: 'unexpected response (301): HTTP 301' },
  ],
];

describe('classifyWriteOutcome', () => {
  it.each(TABLE)('%s', (_name, response, lines, expected) => {
    expect(classifyWriteOutcome(response, lines)).toEqual(expected);
  });
});

describe('serverErrorMessage', () => {
  it('reads 2.x {"code","message"}', () => {
    expect(
      serverErrorMessage({ status: 401, body: v2('unauthorized', 'unauthorized access') }),
    ).toBe('unauthorized access');
  });

  it('reads 1.x {"error"}', () => {
    expect(serverErrorMessage({ status: 404, body: v1('database not found: "x"') })).toBe(
      'database not found: "x"',
    );
  });

  it('falls back to X-Influxdb-Error, then X-Platform-Error-Code, then the text, then the status', () => {
    expect(
      serverErrorMessage({
        status: 400,
        body: '',
        headers: { 'x-influxdb-error': 'unexpected EOF' },
      }),
    ).toBe('unexpected EOF');
    expect(
      serverErrorMessage({
        status: 429,
        body: '',
        headers: { 'x-platform-error-code': 'too many requests' },
      }),
    ).toBe('too many requests');
    expect(serverErrorMessage({ status: 502, body: '<html>Bad Gateway</html>' })).toBe(
      '<html>Bad Gateway</html>',
    );
    expect(serverErrorMessage({ status: 503, body: '' })).toBe('HTTP 503');
  });

  it('caps very long messages', () => {
    expect(
      serverErrorMessage({ status: 400, body: v2('invalid', 'x'.repeat(5000)) }).length,
    ).toBeLessThan(2100);
  });
});

describe('classifyWriteOutcome: InfluxDB 1.x cardinality limits (as 1.6.7 words them)', () => {
  const maxSeries = v1('partial write: max-series-per-database limit exceeded: (5) dropped=4');
  const maxValues = v1(
    'partial write: max-values-per-tag limit exceeded (5/3): measurement="cpu \\"x\\"" tag="host" value="h9" dropped=1',
  );

  it.each([1, 2, 50])(
    'max-series-per-database fails the batch (%i lines): no bisection, no dead letters',
    (lines) => {
      const outcome = classifyWriteOutcome({ status: 400, body: maxSeries }, lines);
      expect(outcome).toMatchObject({ action: 'fail', code: 'SINK_CARDINALITY_LIMIT' });
      const { reason } = outcome as { reason: string };
      expect(reason).toContain('max-series-per-database limit (5)');
      expect(reason).toContain('[data] section of influxdb.conf');
    },
  );

  it('max-values-per-tag fails the batch and names the limit, the tag and the measurement', () => {
    const outcome = classifyWriteOutcome({ status: 400, body: maxValues }, 20);
    expect(outcome).toMatchObject({ action: 'fail', code: 'SINK_CARDINALITY_LIMIT' });
    const { reason } = outcome as { reason: string };
    expect(reason).toContain(
      'tag "host" of measurement "cpu "x"" has 5 values, over the max-values-per-tag limit (3)',
    );
  });

  it('a max-values-per-tag message without the tag still names the limit', () => {
    const outcome = classifyWriteOutcome(
      { status: 400, body: v1('partial write: max-values-per-tag limit exceeded (4/4) dropped=2') },
      2,
    );
    expect(outcome).toMatchObject({ action: 'fail', code: 'SINK_CARDINALITY_LIMIT' });
    expect((outcome as { reason: string }).reason).toContain(
      'a tag has 4 values, over the max-values-per-tag limit (4)',
    );
  });
});
