import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const CLIENT_MODULE = resolve(import.meta.dirname, '../../../src/extract/prometheus.ts');

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('PrometheusClient modules', () => {
  it('runs range queries without loading axios, and loads it for the operator calls', async () => {
    // In a fresh process: what a range query loads is what every promflux run pays for in RSS.
    // axios' CommonJS dependencies (form-data) show in the require cache once it is imported.
    dir = await mkdtemp(join(tmpdir(), 'promflux-modules-'));
    const child = join(dir, 'child.mts');
    await writeFile(
      child,
      `import http from 'node:http';
import { createRequire } from 'node:module';
const axiosLoaded = () =>
  Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('/node_modules/form-data/'));
const server = http.createServer((req, res) => {
  if (req.url === '/-/ready') return res.end('Prometheus Server is Ready.');
  req.resume();
  req.on('end', () => {
    res.setHeader('Content-Type', 'application/json');
    res.end('{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[[1,"2"]]}]}}');
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const { PrometheusClient } = await import(${JSON.stringify(CLIENT_MODULE)});
const client = new PrometheusClient({
  endpoint: { url: 'http://127.0.0.1:' + server.address().port, timeoutMs: 5000, headers: {}, auth: { type: 'none' }, tls: {} },
  params: {},
  retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1, multiplier: 1, jitter: 0 },
});
const result = await client.queryRange({ name: 'q', expr: 'a', startMs: 1000, endMs: 1000, stepMs: 1000 });
const afterQuery = axiosLoaded();
const ready = await client.ready();
console.log(JSON.stringify({ samples: result.samples, afterQuery, ready: ready.ready, afterReady: axiosLoaded() }));
client.close();
server.close();
`,
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', child], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      samples: 1,
      afterQuery: false,
      ready: true,
      afterReady: true,
    });
  });
});
