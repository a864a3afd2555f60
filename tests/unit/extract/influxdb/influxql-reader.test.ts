/**
 * The InfluxQL reader's answers that the real server does not give on demand: a body cut off
 * mid-way and a server that goes silent. Both must fail the read, never end it early as if the
 * data were complete.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  openStoredSeriesReader,
  type StoredSeriesQuery,
} from '../../../../src/extract/influxdb/index.js';
import { readAll, readerConfig } from '../../../support/stored-series.js';

const QUERY: StoredSeriesQuery = {
  bucket: 'metrics/hot',
  measurement: 'health',
  where: { metric_type: 'up' },
  fields: ['value'],
  fromMs: 0,
  toMs: 60_000,
  intervalMs: 15_000,
};

const FIRST_ANSWER = JSON.stringify({
  results: [
    {
      statement_id: 0,
      series: [
        {
          name: 'health',
          tags: { metric_type: 'up' },
          columns: ['time', 'value'],
          values: [[0, 1]],
          partial: true,
        },
      ],
      partial: true,
    },
  ],
});

describe('InfluxQL reader on a broken answer', () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  async function serve(handler: http.RequestListener): Promise<string> {
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function readFailure(url: string, timeoutMs = 10_000): Promise<Error> {
    const config = readerConfig(url, { api: 'v1' });
    config.endpoint.timeoutMs = timeoutMs;
    const reader = await openStoredSeriesReader(config);
    try {
      await readAll(reader, QUERY);
    } catch (err) {
      return err as Error;
    } finally {
      await reader.close();
    }
    throw new Error('the read succeeded');
  }

  it('fails when the connection closes after part of the answer', async () => {
    const url = await serve((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${FIRST_ANSWER}\n{"results":[{"statement_id":0,"series":[{"name":"hea`, () =>
        res.socket?.destroy(),
      );
    });
    const err = await readFailure(url);
    expect(err.message).toMatch(/^Reading from InfluxDB at http:\/\/127\.0\.0\.1:\d+ failed: /);
  });

  it('fails when the server stops sending, naming the timeout', async () => {
    const url = await serve((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${FIRST_ANSWER}\n`);
    });
    const err = await readFailure(url, 300);
    expect(err.message).toContain('sent nothing for 300 ms while reading health');
  });

  it('fails on an error object in the middle of a chunked answer', async () => {
    const url = await serve((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        `${FIRST_ANSWER}\n{"results":[{"statement_id":0,"error":"max-select-point limit exceeded"}]}\n`,
      );
    });
    const err = await readFailure(url);
    expect(err.message).toContain('could not read health from "metrics/hot": max-select-point');
  });
});
