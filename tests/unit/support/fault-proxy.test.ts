import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type Fault, type FaultProxy } from '../../support/fault-proxy.js';

/** What each fault does, against a small upstream that records the bodies it received whole. */
describe('the fault proxy', () => {
  const BODY = Buffer.from('x'.repeat(10_000));
  let upstream: http.Server;
  const received: { url: string; bytes: number; complete: boolean }[] = [];
  let proxy: FaultProxy;
  let next: Fault = { kind: 'pass' };

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('error', () => undefined);
      req.on('close', () => received.push({ url: req.url ?? '', bytes, complete: req.complete }));
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(BODY);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    proxy = await startFaultProxy({
      targetPort: (upstream.address() as AddressInfo).port,
      decide: () => next,
    });
  });
  afterAll(async () => {
    await proxy.stop();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  const send = async (fault: Fault, url: string, signal?: AbortSignal) => {
    next = fault;
    const res = await fetch(`${proxy.url}${url}`, { method: 'POST', body: 'hello', signal });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  };

  it('passes, delays and throttles without changing a byte', async () => {
    for (const fault of [
      { kind: 'pass' },
      { kind: 'latency', ms: 20 },
      { kind: 'bandwidth', bytesPerSecond: 200_000 },
    ] as Fault[]) {
      const res = await send(fault, `/${fault.kind}`);
      expect(res.status, fault.kind).toBe(200);
      expect(res.body.equals(BODY), fault.kind).toBe(true);
    }
  });

  it('answers a status itself, without asking the upstream', async () => {
    const before = received.length;
    const res = await send({ kind: 'status', status: 503, retryAfter: '1' }, '/status');
    expect(res.status).toBe(503);
    expect(received.length).toBe(before);
  });

  it.each(['reset', 'cut'] as const)(
    '%s: the body stops short, the client sees an error',
    async (kind) => {
      await expect(send({ kind, at: 0.5 }, `/${kind}`)).rejects.toThrow();
    },
  );

  it('stall: the answer never completes; the client gives up', async () => {
    await expect(
      send({ kind: 'stall', at: 0.3 }, '/stall', AbortSignal.timeout(300)),
    ).rejects.toThrow();
    await expect(
      send({ kind: 'stall', at: 0, headless: true }, '/headless', AbortSignal.timeout(300)),
    ).rejects.toThrow();
  });

  it('lost: the upstream had the whole request, the client gets a reset', async () => {
    await expect(send({ kind: 'lost' }, '/lost')).rejects.toThrow();
    expect(received.find((r) => r.url === '/lost')).toMatchObject({ bytes: 5, complete: true });
  });

  it.each(['reset-request', 'cut-request'] as const)(
    '%s: the upstream gets part of the body, never all of it',
    async (kind) => {
      await expect(send({ kind, at: 0.6 }, `/${kind}`)).rejects.toThrow();
      await expect
        .poll(() => received.find((r) => r.url === `/${kind}`))
        .toMatchObject({
          bytes: 3,
          complete: false,
        });
    },
  );

  it('numbers the attempts of one request, and tells requests apart by their body', async () => {
    await send({ kind: 'pass' }, '/again');
    await send({ kind: 'pass' }, '/again');
    next = { kind: 'pass' };
    await fetch(`${proxy.url}/again`, { method: 'POST', body: 'other' });
    const again = proxy.log.filter((e) => e.request.url === '/again').map((e) => e.request);
    expect(again.map((r) => r.attempt)).toEqual([1, 2, 1]);
    expect(again[0]!.distinct).toBe(again[1]!.distinct);
    expect(again[2]!.distinct).toBeGreaterThan(again[0]!.distinct);
    expect(proxy.counts()).toMatchObject({ status: 1, reset: 1, cut: 1, lost: 1 });
  });
});
