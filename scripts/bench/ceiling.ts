/**
 * The sink ceiling: the exact lines promflux would write (rendered beforehand by
 * `promflux backfill --dry-run`), posted by a minimal node:http keep-alive client with promflux's
 * batch size and write concurrency. Nothing but the sink limits it.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** promflux's defaults: `load.influxdb.batch_size` and the write window. */
export const BATCH_LINES = 5000;
export const WRITES_IN_FLIGHT = 4;

export interface LineBatches {
  batches: Buffer[];
  lines: number;
  bytes: number;
  precision: string;
}

const NEWLINE = 0x0a;
const HASH = 0x23;

/**
 * Reads `--dry-run` output into batches of `batchSize` lines. The `# precision=<p>` comment lines
 * are dropped; there must be exactly one precision.
 */
export async function loadLineBatches(path: string, batchSize = BATCH_LINES): Promise<LineBatches> {
  const data = await readFile(path);
  const batches: Buffer[] = [];
  const precisions = new Set<string>();
  let parts: Buffer[] = [];
  let runStart = 0;
  let inBatch = 0;
  let lines = 0;
  let bytes = 0;
  let pos = 0;
  const flushRun = (end: number): void => {
    if (end > runStart) parts.push(data.subarray(runStart, end));
  };
  const cutBatch = (): void => {
    if (parts.length > 0) {
      const batch = parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts);
      batches.push(batch);
      bytes += batch.length;
    }
    parts = [];
    inBatch = 0;
  };
  while (pos < data.length) {
    let end = data.indexOf(NEWLINE, pos);
    end = end === -1 ? data.length : end + 1;
    if (data[pos] === HASH) {
      const comment = data.toString('utf8', pos, end).trim();
      const m = /^# precision=(\w+)$/.exec(comment);
      if (!m) throw new Error(`unexpected comment in the dry-run output: ${comment}`);
      precisions.add(m[1]!);
      flushRun(pos);
      runStart = end;
    } else if (end - pos > 1) {
      lines++;
      if (++inBatch === batchSize) {
        flushRun(end);
        runStart = end;
        cutBatch();
      }
    }
    pos = end;
  }
  flushRun(data.length);
  cutBatch();
  if (precisions.size !== 1) {
    throw new Error(
      `expected one precision in the dry-run output, got ${[...precisions].join(', ') || 'none'}`,
    );
  }
  return { batches, lines, bytes, precision: [...precisions][0]! };
}

export interface CeilingResult {
  lines: number;
  bytes: number;
  requests: number;
  seconds: number;
  points_per_second: number;
  /** CPU seconds of the writer (this process): posting lines that need no encoding. */
  cpu_seconds: number;
}

/**
 * Posts every batch to `url` (which carries db/bucket and precision), `concurrency` requests at a
 * time over keep-alive sockets; every answer must be 204.
 */
export async function postBatches(
  url: URL,
  batches: readonly Buffer[],
  opts: { lines: number; headers?: Record<string, string>; concurrency?: number },
): Promise<CeilingResult> {
  const concurrency = opts.concurrency ?? WRITES_IN_FLIGHT;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  let bytes = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      const batch = batches[i];
      if (batch === undefined) return;
      await post(agent, url, batch, opts.headers ?? {});
      bytes += batch.length;
    }
  };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  return {
    lines: opts.lines,
    bytes,
    requests: batches.length,
    seconds,
    points_per_second: opts.lines / seconds,
    cpu_seconds: (cpu.user + cpu.system) / 1e6,
  };
}

function post(
  agent: http.Agent,
  url: URL,
  body: Buffer,
  headers: Record<string, string>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          ...headers,
          'Content-Type': 'text/plain; charset=utf-8',
          'Content-Length': String(body.length),
        },
        timeout: 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode === 204) resolve();
          else
            reject(
              new Error(
                `${url.pathname} answered ${res.statusCode}: ${Buffer.concat(chunks).toString().trim().slice(0, 500)}`,
              ),
            );
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url.pathname}: no answer within 60s`)));
    req.on('error', reject);
    req.end(body);
  });
}
