import { describe, expect, it } from 'vitest';
import { SinkError } from '../../../src/core/errors.js';
import { HttpTimeoutError } from '../../../src/core/http-client.js';
import { PrometheusRequestError } from '../../../src/extract/query-response.js';
import { outageCause } from '../../../src/observe/outage-cause.js';
import { DaemonStatus } from '../../../src/observe/status.js';
import { queryRun } from '../../support/query-run.js';

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8086'), {
  code: 'ECONNREFUSED',
});
const sinkFailed = (cause: unknown, status?: number): SinkError =>
  new SinkError('SINK_WRITE_FAILED', 'Could not write 3 line(s) to influxdb', status, { cause });
const promFailed = (errorType: string): PrometheusRequestError =>
  new PrometheusRequestError('QUERY_FAILED', 'a', errorType, 'down', { retryable: true });

describe('outageCause', () => {
  it('tells an unreachable end from one that does not answer in time', () => {
    expect(outageCause(sinkFailed(refused))).toBe('the sink is unreachable');
    expect(outageCause(sinkFailed(new HttpTimeoutError(new URL('http://h/write'), 1000)))).toBe(
      'the sink did not answer within the timeout',
    );
    expect(outageCause(promFailed('network'))).toBe('Prometheus is unreachable');
    expect(outageCause(promFailed('timeout'))).toBe('Prometheus did not answer within the timeout');
  });

  it('names no outage when the server answered', () => {
    expect(outageCause(sinkFailed(refused, 503))).toBeUndefined();
    expect(outageCause(promFailed('bad_data'))).toBeUndefined();
    expect(outageCause(new Error('connect ECONNREFUSED'))).toBeUndefined();
  });
});

describe('DaemonStatus readiness in an outage', () => {
  it('names the outage first, then the failing queries and the error that shows it', () => {
    const status = new DaemonStatus(['a', 'b']);
    status.recordRun(queryRun('a', 0, sinkFailed(refused)));
    status.recordRun(queryRun('b', 0, sinkFailed(refused)));
    status.recordCycle(false);
    expect(status.readiness()).toEqual({
      ready: false,
      reason:
        'the sink is unreachable (the last cycle failed for a, b): ' +
        'Could not write 3 line(s) to influxdb: connect ECONNREFUSED 127.0.0.1:8086',
    });
  });
});
