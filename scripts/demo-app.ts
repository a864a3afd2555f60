/**
 * A tiny HTTP service with Prometheus metrics and simulated traffic, for the quick start and
 * integration tests. Scraped as job="test-app", it makes the four default health queries return data:
 * `up`, `rate(http_requests_total[5m])`, the p95 of `http_request_duration_seconds_bucket` and the
 * 5xx rate.
 *
 * Run: `npx tsx scripts/demo-app.ts [port]` (default: a free port), Ctrl-C to stop.
 */
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Counter, Histogram, Registry } from 'prom-client';
import { mulberry32 } from './lib/openmetrics-fixture.js';

export interface DemoApp {
  /** `http://127.0.0.1:<port>`; metrics at `/metrics`. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

const METHODS = ['GET', 'POST'] as const;
const STATUSES = ['200', '404', '500', '503'] as const;
const TRAFFIC_TICK_MS = 100;

/** Starts the demo app on 127.0.0.1 (`port` 0 or absent: any free port). */
export async function startDemoApp(port = 0): Promise<DemoApp> {
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by method and status.',
    labelNames: ['method', 'status'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency in seconds.',
    labelNames: ['method', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // Every label combination exists from the first scrape, so rate() has data after two scrapes.
  for (const method of METHODS) {
    for (const status of STATUSES) {
      requests.labels(method, status).inc(0);
      durations.zero({ method, status });
    }
  }

  const random = mulberry32(42);
  const simulate = (): void => {
    const n = 1 + Math.floor(random() * 5);
    for (let i = 0; i < n; i++) {
      const method = random() < 0.8 ? 'GET' : 'POST';
      const roll = random();
      // About 5% 5xx, 5% 404.
      const status = roll < 0.9 ? '200' : roll < 0.95 ? '404' : roll < 0.98 ? '500' : '503';
      const seconds = Math.min(5, -Math.log(1 - random()) * (status === '503' ? 1 : 0.08));
      requests.labels(method, status).inc();
      durations.labels(method, status).observe(seconds);
    }
  };
  const timer = setInterval(simulate, TRAFFIC_TICK_MS);

  const server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    const method = req.method === 'POST' ? 'POST' : 'GET';
    const finish = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'Content-Type': type });
      res.end(body);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (req.url !== '/metrics') {
        requests.labels(method, String(status)).inc();
        durations.labels(method, String(status)).observe(seconds);
      }
    };
    if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => finish(200, registry.contentType, text),
        (err: Error) => finish(500, 'text/plain', `metrics failed: ${err.message}\n`),
      );
    } else if (req.url === '/') {
      finish(200, 'text/plain', 'promflux demo app: metrics at /metrics\n');
    } else {
      finish(404, 'text/plain', 'not found\n');
    }
  });

  try {
    await listen(server, port);
  } catch (err) {
    clearInterval(timer);
    throw err;
  }
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    stop() {
      stopping ??= new Promise<void>((resolve, reject) => {
        clearInterval(timer);
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function main(): Promise<void> {
  const port = process.argv[2] === undefined ? 0 : Number(process.argv[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`usage: tsx scripts/demo-app.ts [port]  (got ${process.argv[2]})`);
    process.exitCode = 2;
    return;
  }
  const app = await startDemoApp(port);
  console.log(`Demo app listening on ${app.url} (metrics at ${app.url}/metrics). Ctrl-C to stop.`);
  const shutdown = (): void => {
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
