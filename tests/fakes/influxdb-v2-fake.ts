/**
 * A faithful in-process InfluxDB 2.x fake (node:http on 127.0.0.1, port 0), built from
 * /work/shared/reference/PROTOCOLS.md §3 and influxdb v2.7's http/write_handler.go and
 * models/points.go: same checks in the same order, same status codes, same messages.
 *
 * Serves `/api/v2/write`, `/api/v2/orgs`, `/api/v2/buckets` (GET, POST, PATCH `/:id`), `/health`,
 * `/ping`, `/ready`. Permissions follow influxdb v2.7 authorizer/: a token that may not read an org
 * or bucket gets it filtered out of a list (200, empty), one that may not create or change a
 * bucket gets 401 `<permission> is unauthorized`.
 *
 * `generation: 'v3'` turns it into a small InfluxDB 3 Core: `/ping` says 3.x, `/api/v2/orgs` and
 * `/api/v2/buckets` are gone, and `GET`/`POST /api/v3/configure/database` list and create
 * databases (held as buckets of the start org, so `/api/v2/write?bucket=<db>` reaches them). Stores accepted points (timestamps in ns, identical measurement+tags+time merges
 * fields) for assertions. Fault injection: `failNext` (an answer, or a reset mid-request), a 422
 * partial-write predicate, latency. Records every request (arrival time, body hash) and the
 * maximum number of requests in flight.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export const FAKE_VERSION = 'v2.7.12';
export const FAKE_V3_VERSION = '3.0.1';

// ---------------------------------------------------------------------------------------------
// Line protocol parser (port of influxdb models/points.go: the same scanning and error messages)
// ---------------------------------------------------------------------------------------------

export type FieldValue = number | bigint | boolean | string;
export type FieldType = 'float' | 'integer' | 'unsigned' | 'boolean' | 'string';

export interface ParsedPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, { type: FieldType; value: FieldValue }>;
  /** Nanoseconds since the epoch. */
  timestamp: bigint;
  /** The line as received (without its newline). */
  line: string;
}

export interface ParseResult {
  points: ParsedPoint[];
  /** `unable to parse '<line>': <reason>` per bad line, like InfluxDB. */
  errors: string[];
}

const PRECISION_NS: Record<string, bigint> = {
  ns: 1n,
  n: 1n,
  us: 1_000n,
  u: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
};

const MIN_NANO_TIME = -9223372036854775806n;
const MAX_NANO_TIME = 9223372036854775806n;
const MAX_KEY_LENGTH = 65535;

class LineError extends Error {}

/** Parses a line-protocol body as InfluxDB 2.x does (uint support on). */
export function parseLineProtocol(text: string, precision: string, nowNs: bigint): ParseResult {
  const points: ParsedPoint[] = [];
  const errors: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    const end = scanLine(text, pos);
    let block = text.slice(pos, end);
    pos = end + 1;
    if (block.length === 0) continue;
    const start = skipWhitespace(block, 0);
    if (start >= block.length || block[start] === '#') continue;
    if (block.endsWith('\n')) block = block.slice(0, -1);
    const line = block.slice(start);
    try {
      points.push(parsePoint(line, precision, nowNs));
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      errors.push(`unable to parse '${line}': ${err.message}`);
    }
  }
  return { points, errors };
}

function scanLine(buf: string, i: number): number {
  let quoted = false;
  let fields = false;
  let equals = 0;
  let commas = 0;
  while (i < buf.length) {
    const c = buf[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === ' ') fields = true;
    if (fields) {
      if (!quoted && c === '=') {
        i++;
        equals++;
        continue;
      } else if (!quoted && c === ',') {
        i++;
        commas++;
        continue;
      } else if (c === '"' && equals > commas) {
        i++;
        quoted = !quoted;
        continue;
      }
    }
    if (c === '\n' && !quoted) break;
    i++;
  }
  return Math.min(i, buf.length);
}

function skipWhitespace(buf: string, i: number): number {
  while (i < buf.length && (buf[i] === ' ' || buf[i] === '\t' || buf[i] === '\0')) i++;
  return i;
}

function parsePoint(buf: string, precision: string, nowNs: bigint): ParsedPoint {
  const { pos: afterKey, measurement, tags } = scanKey(buf);
  if (measurement.length === 0) throw new LineError('missing measurement');
  const keyLength = Buffer.byteLength(buf.slice(0, afterKey));
  if (keyLength > MAX_KEY_LENGTH) {
    throw new LineError(`max key length exceeded: ${keyLength} > ${MAX_KEY_LENGTH}`);
  }
  const { pos: afterFields, raw: rawFields } = scanFields(buf, afterKey);
  if (rawFields.length === 0) throw new LineError('missing fields');
  const fields = decodeFields(rawFields);
  const { pos: afterTime, raw: rawTime } = scanTime(buf, afterFields);
  let timestamp = nowNs;
  if (rawTime.length > 0) {
    if (rawTime === '-') throw new LineError('strconv.ParseInt: parsing "-": invalid syntax');
    const value = BigInt(rawTime) * PRECISION_NS[precision]!;
    if (value < MIN_NANO_TIME || value > MAX_NANO_TIME) {
      throw new LineError(`time outside range ${MIN_NANO_TIME} - ${MAX_NANO_TIME}`);
    }
    timestamp = value;
    for (let i = afterTime; i < buf.length; i++) {
      if (buf[i] !== ' ') throw new LineError('point is invalid');
    }
  }
  return { measurement, tags, fields, timestamp, line: buf };
}

function scanKey(buf: string): { pos: number; measurement: string; tags: Record<string, string> } {
  let i = skipWhitespace(buf, 0);
  const start = i;
  // measurement
  if (i >= buf.length || buf[i] === ',') throw new LineError('missing measurement');
  let state: 'tagKey' | 'fields';
  for (;;) {
    i++;
    if (i >= buf.length) throw new LineError('missing fields');
    if (buf[i - 1] === '\\') continue;
    if (buf[i] === ',') {
      state = 'tagKey';
      break;
    }
    if (buf[i] === ' ') {
      state = 'fields';
      break;
    }
  }
  const measurement = unescape(buf.slice(start, i), /\\([, ])/g);
  const tags: Record<string, string> = {};
  const tagKeys: string[] = [];
  if (state === 'tagKey') {
    i++;
    for (;;) {
      // tag key
      const keyStart = i;
      if (i >= buf.length || buf[i] === ' ' || buf[i] === ',' || buf[i] === '=') {
        throw new LineError('missing tag key');
      }
      for (;;) {
        i++;
        if (i >= buf.length || ((buf[i] === ' ' || buf[i] === ',') && buf[i - 1] !== '\\')) {
          throw new LineError('missing tag value');
        }
        if (buf[i] === '=' && buf[i - 1] !== '\\') break;
      }
      const key = buf.slice(keyStart, i);
      i++;
      // tag value
      const valueStart = i;
      if (i >= buf.length || buf[i] === ',' || buf[i] === ' ')
        throw new LineError('missing tag value');
      let next: 'tagKey' | 'fields';
      for (;;) {
        i++;
        if (i >= buf.length) throw new LineError('missing fields');
        if (buf[i] === '=' && buf[i - 1] !== '\\') throw new LineError('invalid tag format');
        if (buf[i] === ',' && buf[i - 1] !== '\\') {
          next = 'tagKey';
          break;
        }
        if (buf[i] === ' ' && buf[i - 1] !== '\\') {
          next = 'fields';
          break;
        }
      }
      tagKeys.push(key);
      tags[unescape(key, /\\([,= ])/g)] = unescape(buf.slice(valueStart, i), /\\([,= ])/g);
      if (next === 'fields') break;
      i++;
    }
    const sorted = [...tagKeys].sort(compareBytes);
    for (let j = 1; j < sorted.length; j++) {
      if (sorted[j] === sorted[j - 1]) throw new LineError('duplicate tags');
    }
  }
  return { pos: i, measurement, tags };
}

function scanFields(buf: string, from: number): { pos: number; raw: string } {
  const start = skipWhitespace(buf, from);
  let i = start;
  let quoted = false;
  let equals = 0;
  let commas = 0;
  for (;;) {
    if (i >= buf.length) break;
    const c = buf[i];
    if (c === '\\' && i + 1 < buf.length) {
      i += 2;
      continue;
    }
    if (c === '"' && equals > commas) {
      quoted = !quoted;
      i++;
      continue;
    }
    if (c === '=' && !quoted) {
      equals++;
      if (buf[i - 1] === ' ' && buf[i - 2] !== '\\') throw new LineError('missing field key');
      if (buf[i - 1] === ',' && buf[i - 2] !== '\\') throw new LineError('missing field key');
      if (i + 1 >= buf.length) throw new LineError('missing field value');
      const n = buf[i + 1]!;
      if (n === ',' || n === ' ') throw new LineError('missing field value');
      if (isNumeric(n) || n === '-' || n === 'N' || n === 'n') {
        i = scanNumber(buf, i + 1);
        continue;
      }
      if (n !== '"') {
        i = scanBoolean(buf, i + 1);
        continue;
      }
    }
    if (c === ',' && !quoted) commas++;
    if (c === ' ' && !quoted) break;
    i++;
  }
  if (quoted) throw new LineError('unbalanced quotes');
  if (equals === 0 || commas !== equals - 1) throw new LineError('invalid field format');
  return { pos: i, raw: buf.slice(start, i) };
}

function isNumeric(c: string): boolean {
  return (c >= '0' && c <= '9') || c === '.';
}

function scanNumber(buf: string, i: number): number {
  const start = i;
  let isInt = false;
  let isUnsigned = false;
  if (i < buf.length && buf[i] === '-') {
    i++;
    if (i === buf.length) throw new LineError('invalid number');
  }
  let decimal = false;
  let scientific = false;
  for (;;) {
    if (i >= buf.length) break;
    const c = buf[i]!;
    if (c === ',' || c === ' ') break;
    if (c === 'i' && i > start && !(isInt || isUnsigned)) {
      isInt = true;
      i++;
      continue;
    } else if (c === 'u' && i > start && !(isInt || isUnsigned)) {
      isUnsigned = true;
      i++;
      continue;
    }
    if (c === '.') {
      if (decimal) throw new LineError('invalid number');
      decimal = true;
    }
    if (i > start && (c === 'e' || c === 'E')) {
      scientific = true;
      i++;
      continue;
    }
    if ((c === '+' || c === '-') && (buf[i - 1] === 'e' || buf[i - 1] === 'E')) {
      i++;
      continue;
    }
    if (i + 2 < buf.length && (c === 'N' || c === 'n')) throw new LineError('invalid number');
    if (!isNumeric(c)) throw new LineError('invalid number');
    i++;
  }
  if ((isInt || isUnsigned) && (decimal || scientific)) throw new LineError('invalid number');
  let digits = i - start;
  if (isInt) digits--;
  if (decimal) digits--;
  if (buf[start] === '-') digits--;
  if (digits === 0) throw new LineError('invalid number');
  const text = buf.slice(start, i);
  if (isInt) {
    if (buf[i - 1] !== 'i') throw new LineError('invalid number');
    const v = BigInt(text.slice(0, -1));
    if (v > 9223372036854775807n || v < -9223372036854775808n) {
      throw new LineError(
        `unable to parse integer ${text.slice(0, -1)}: strconv.ParseInt: parsing "${text.slice(0, -1)}": value out of range`,
      );
    }
  } else if (isUnsigned) {
    if (buf[i - 1] !== 'u' || buf[start] === '-') throw new LineError('invalid number');
    if (BigInt(text.slice(0, -1)) > 18446744073709551615n) {
      throw new LineError(
        `unable to parse unsigned ${text.slice(0, -1)}: strconv.ParseUint: parsing "${text.slice(0, -1)}": value out of range`,
      );
    }
  } else if (!Number.isFinite(Number(text))) {
    throw new LineError('invalid float');
  }
  return i;
}

function scanBoolean(buf: string, i: number): number {
  const start = i;
  const first = buf[i];
  if (i < buf.length && first !== 't' && first !== 'f' && first !== 'T' && first !== 'F') {
    throw new LineError('invalid boolean');
  }
  i++;
  while (i < buf.length && buf[i] !== ',' && buf[i] !== ' ') i++;
  const word = buf.slice(start, i);
  if (word.length === 1) return i;
  const valid = ['true', 'True', 'TRUE', 'false', 'False', 'FALSE'].includes(word);
  if (!valid) throw new LineError('invalid boolean');
  return i;
}

function scanTime(buf: string, from: number): { pos: number; raw: string } {
  const start = skipWhitespace(buf, from);
  let i = start;
  while (i < buf.length) {
    const c = buf[i]!;
    if (c === '\n' || c === ' ') break;
    if (i === start && c === '-') {
      i++;
      continue;
    }
    if (c < '0' || c > '9') throw new LineError('bad timestamp');
    i++;
  }
  return { pos: i, raw: buf.slice(start, i) };
}

/** Splits an already validated field section into typed values. */
function decodeFields(raw: string): ParsedPoint['fields'] {
  const fields: ParsedPoint['fields'] = {};
  let i = 0;
  while (i < raw.length) {
    const keyStart = i;
    while (i < raw.length && !(raw[i] === '=' && raw[i - 1] !== '\\')) i++;
    const key = unescape(raw.slice(keyStart, i), /\\([,= ])/g);
    i++;
    const valueStart = i;
    let quoted = false;
    while (i < raw.length) {
      if (raw[i] === '\\' && i + 1 < raw.length && (raw[i + 1] === '"' || raw[i + 1] === '\\')) {
        i += 2;
        continue;
      }
      if (raw[i] === '"') quoted = !quoted;
      else if (raw[i] === ',' && !quoted) break;
      i++;
    }
    fields[key] = decodeValue(raw.slice(valueStart, i));
    i++;
  }
  return fields;
}

function decodeValue(text: string): { type: FieldType; value: FieldValue } {
  if (text.startsWith('"')) {
    return { type: 'string', value: text.slice(1, -1).replace(/\\(["\\])/g, '$1') };
  }
  const last = text[text.length - 1];
  if (last === 'i') return { type: 'integer', value: BigInt(text.slice(0, -1)) };
  if (last === 'u') return { type: 'unsigned', value: BigInt(text.slice(0, -1)) };
  if (/^[tTfF]/.test(text)) return { type: 'boolean', value: /^[tT]/.test(text) };
  return { type: 'float', value: Number(text) };
}

function unescape(text: string, pattern: RegExp): string {
  return text.includes('\\') ? text.replace(pattern, '$1') : text;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

export interface StoredPoint {
  bucket: string;
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  /** Nanoseconds since the epoch. */
  timestamp: bigint;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Request headers without `authorization`. */
  headers: Record<string, string | string[] | undefined>;
  /** Bytes received (compressed size when gzipped). */
  bodyBytes: number;
  gzip: boolean;
  /** The status answered (0 while in flight, or when the connection was reset). */
  status: number;
  /** When the request arrived (`performance.now()`): waits between requests are measured on it. */
  atMs: number;
  /** SHA-256 of the body as received (a retry sends the same body); '' when reset unread. */
  bodySha256: string;
}

export interface InjectedFailure {
  status: number;
  /**
   * Instead of answering: once part of the request body arrived, close the connection with a TCP
   * RST (a proxy or server dying mid-request). Nothing is stored; `status` is not sent.
   */
  reset?: boolean;
  /** Retry-After header value, in seconds (or an HTTP date). */
  retryAfter?: number | string;
  /**
   * Raw body, or a function of the request (a proxy that echoes the request headers, credentials
   * included); default: `{"code","message"}` for the status.
   */
  body?: string | ((req: http.IncomingMessage) => string);
  headers?: Record<string, string>;
}

export interface FakeBucket {
  id: string;
  orgID: string;
  name: string;
  description?: string;
  /** 0 = infinite. */
  retentionSeconds: number;
  shardGroupDurationSeconds: number;
  createdAt: string;
}

export interface FakeOrg {
  id: string;
  name: string;
  createdAt: string;
}

export interface InfluxDbV2FakeOptions {
  /** Token with all permissions (default `fake-token`). */
  token?: string;
  /** Token that may read orgs/buckets but not write (403 on write). */
  readOnlyToken?: string;
  /** Token that may only write points (no read:orgs, read:buckets or write:buckets). */
  writeOnlyToken?: string;
  /** `v2` (default) or a small InfluxDB 3 Core (see the module comment). */
  generation?: 'v2' | 'v3';
  /** Organization created at start (default `promflux`). */
  org?: string;
  /** Bucket created in that org at start (default `metrics`, infinite retention). */
  bucket?: string;
  /** Largest accepted (decompressed) write body; larger → 413. Default 25 MB. */
  maxBodyBytes?: number;
  /** Delay before every response. */
  latencyMs?: number;
}

/**
 * A route served by a module that extends the fake (tests/fakes/influxdb-v2-query.ts), called
 * after the token was accepted, with the organization the `org`/`orgID` parameters name.
 */
export type MountedRoute = (request: {
  url: URL;
  body: Buffer;
  access: Access;
  org: FakeOrg | { status: number; error: string };
  res: http.ServerResponse;
}) => void;

const ERROR_CODES: Record<number, string> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  405: 'method not allowed',
  409: 'conflict',
  413: 'request too large',
  422: 'unprocessable entity',
  429: 'too many requests',
  500: 'internal error',
  502: 'internal error',
  503: 'unavailable',
  504: 'internal error',
};

function newId(): string {
  return randomBytes(8).toString('hex');
}

/** The fake server. Create with {@link InfluxDbV2Fake.start}; always `stop()` it. */
export class InfluxDbV2Fake {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url = '';
  readonly token: string;
  readonly readOnlyToken: string | undefined;
  readonly writeOnlyToken: string | undefined;
  readonly generation: 'v2' | 'v3';
  readonly org: string;
  readonly bucket: string;
  readonly requests: RecordedRequest[] = [];
  maxConcurrent = 0;
  latencyMs: number;
  maxBodyBytes: number;

  private readonly server: http.Server;
  private readonly orgs: FakeOrg[] = [];
  private readonly buckets: FakeBucket[] = [];
  /** bucketId → point key → point. */
  private readonly store = new Map<string, Map<string, StoredPoint>>();
  /** bucketId → `measurement\0field` → type. */
  private readonly fieldTypes = new Map<string, Map<string, FieldType>>();
  private readonly failures: { remaining: number; failure: InjectedFailure; path: string }[] = [];
  private partialWrite: ((line: string) => boolean) | undefined;
  private inFlight = 0;
  private readonly mounted = new Map<string, MountedRoute>();

  private constructor(opts: InfluxDbV2FakeOptions) {
    this.token = opts.token ?? 'fake-token';
    this.readOnlyToken = opts.readOnlyToken;
    this.writeOnlyToken = opts.writeOnlyToken;
    this.generation = opts.generation ?? 'v2';
    this.org = opts.org ?? 'promflux';
    this.bucket = opts.bucket ?? 'metrics';
    this.latencyMs = opts.latencyMs ?? 0;
    this.maxBodyBytes = opts.maxBodyBytes ?? 25_000_000;
    const org = this.createOrg(this.org);
    this.createBucket(org.name, this.bucket, 0);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.sendError(res, 500, `fake failure: ${String(err)}`);
      });
    });
  }

  static async start(opts: InfluxDbV2FakeOptions = {}): Promise<InfluxDbV2Fake> {
    const fake = new InfluxDbV2Fake(opts);
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  createOrg(name: string): FakeOrg {
    const org = { id: newId(), name, createdAt: new Date().toISOString() };
    this.orgs.push(org);
    return org;
  }

  createBucket(orgName: string, name: string, retentionSeconds = 0): FakeBucket {
    const org = this.orgs.find((o) => o.name === orgName);
    if (!org) throw new Error(`no org ${orgName}`);
    const bucket: FakeBucket = {
      id: newId(),
      orgID: org.id,
      name,
      retentionSeconds,
      shardGroupDurationSeconds: shardGroupDuration(retentionSeconds),
      createdAt: new Date().toISOString(),
    };
    this.buckets.push(bucket);
    return bucket;
  }

  /** The next `count` requests to `path` (default the write endpoint) get this answer instead. */
  failNext(count: number, failure: InjectedFailure, path = '/api/v2/write'): void {
    this.failures.push({ remaining: count, failure, path });
  }

  /** Drops every failure {@link failNext} still had to inject. */
  clearFailures(): void {
    this.failures.length = 0;
  }

  /**
   * Partial-write mode: lines matching `predicate` are dropped, the others are stored, and the
   * answer is 422 `partial write … dropped=N` (as 2.x does for field type conflicts). `undefined`
   * turns it off.
   */
  setPartialWrite(predicate: ((line: string) => boolean) | undefined): void {
    this.partialWrite = predicate;
  }

  /** Serves `route` (`POST /api/v2/query`) with `handler`. */
  mount(route: string, handler: MountedRoute): void {
    this.mounted.set(route, handler);
  }

  /** A bucket (3.x: database) by name, as stored now. */
  findBucket(name: string): FakeBucket | undefined {
    return this.buckets.find((b) => b.name === name);
  }

  /** Stored points of a bucket (default: the start bucket), oldest write first. */
  points(bucketName = this.bucket): StoredPoint[] {
    const bucket = this.buckets.find((b) => b.name === bucketName);
    return bucket ? [...(this.store.get(bucket.id)?.values() ?? [])] : [];
  }

  /** Requests to the write endpoint. */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/api/v2/write');
  }

  // -------------------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.inFlight);
    res.on('close', () => this.inFlight--);
    const url = new URL(req.url ?? '/', 'http://fake');
    const atMs = performance.now();
    const injected = this.failures.find((f) => f.path === url.pathname && f.remaining > 0);
    if (injected?.failure.reset) {
      injected.remaining--;
      this.requests.push(this.record(req, url, undefined, atMs));
      const reset = (): void => void req.socket.resetAndDestroy();
      req.once('data', reset).once('end', reset);
      return;
    }
    const body = await readBody(req);
    const record = this.record(req, url, body, atMs);
    this.requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));

    if (injected && injected.remaining > 0) {
      injected.remaining--;
      const { status, retryAfter, headers: extra } = injected.failure;
      const code = ERROR_CODES[status] ?? 'internal error';
      const { body: given } = injected.failure;
      const text =
        typeof given === 'function'
          ? given(req)
          : (given ?? JSON.stringify({ code, message: `injected failure ${status}` }));
      res.writeHead(status, {
        'Content-Type': 'application/json; charset=utf-8',
        'X-Platform-Error-Code': code,
        ...(retryAfter !== undefined ? { 'Retry-After': String(retryAfter) } : {}),
        ...extra,
      });
      res.end(text);
      return;
    }

    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /ping':
      case 'HEAD /ping':
        res.writeHead(
          204,
          this.generation === 'v3'
            ? { 'X-Influxdb-Build': 'Core', 'X-Influxdb-Version': FAKE_V3_VERSION }
            : { 'X-Influxdb-Build': 'OSS', 'X-Influxdb-Version': FAKE_VERSION },
        );
        res.end();
        return;
      case 'GET /health':
        this.sendJson(res, 200, {
          name: 'influxdb',
          message: 'ready for queries and writes',
          status: 'pass',
          checks: [],
          version: FAKE_VERSION,
          commit: 'fake',
        });
        return;
      case 'GET /ready':
        this.sendJson(res, 200, { status: 'ready', started: new Date().toISOString(), up: '1s' });
        return;
    }
    if (this.generation === 'v3' && url.pathname.startsWith('/api/v3/')) {
      this.handleV3(req, url, body, res);
      return;
    }
    const v3Gone = this.generation === 'v3' && url.pathname !== '/api/v2/write';
    if (!url.pathname.startsWith('/api/v2/') || v3Gone) {
      this.sendError(res, 404, 'path not found');
      return;
    }
    const access = this.authorize(req);
    if (!access) {
      this.sendError(res, 401, 'unauthorized access');
      return;
    }
    const mounted = this.mounted.get(route);
    if (mounted) {
      const org = this.findOrg(url.searchParams.get('org'), url.searchParams.get('orgID'));
      mounted({ url, body, access, org, res });
      return;
    }
    const patch = /^\/api\/v2\/buckets\/([^/]+)$/.exec(url.pathname);
    if (patch && req.method === 'PATCH') {
      this.handlePatchBucket(patch[1]!, body, access, res);
      return;
    }
    switch (route) {
      case 'POST /api/v2/write':
        this.handleWrite(url, req, body, access, res);
        return;
      case 'GET /api/v2/orgs':
        this.handleGetOrgs(url, access, res);
        return;
      case 'GET /api/v2/buckets':
        this.handleGetBuckets(url, access, res);
        return;
      case 'POST /api/v2/buckets':
        this.handlePostBuckets(body, access, res);
        return;
    }
    if (['/api/v2/write', '/api/v2/orgs', '/api/v2/buckets'].includes(url.pathname)) {
      this.sendError(res, 405, 'method not allowed');
      return;
    }
    this.sendError(res, 404, 'path not found');
  }

  /** The record of a request; `body` undefined when it was reset before its body was read. */
  private record(
    req: http.IncomingMessage,
    url: URL,
    body: Buffer | undefined,
    atMs: number,
  ): RecordedRequest {
    const headers = { ...req.headers };
    delete headers.authorization;
    return {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      bodyBytes: body?.length ?? 0,
      gzip: /^(x-)?gzip$/i.test(String(req.headers['content-encoding'] ?? '')),
      status: 0,
      atMs,
      bodySha256: body ? createHash('sha256').update(body).digest('hex') : '',
    };
  }

  private authorize(req: http.IncomingMessage): Access | undefined {
    const match = /^(?:Token|Bearer) (.+)$/.exec(req.headers.authorization ?? '');
    if (!match) return undefined;
    if (match[1] === this.token) return 'all';
    if (this.readOnlyToken !== undefined && match[1] === this.readOnlyToken) return 'read';
    if (this.writeOnlyToken !== undefined && match[1] === this.writeOnlyToken) return 'write';
    return undefined;
  }

  /** The order of checks follows influxdb v2.7 http/write_handler.go. */
  private handleWrite(
    url: URL,
    req: http.IncomingMessage,
    raw: Buffer,
    access: Access,
    res: http.ServerResponse,
  ): void {
    const q = url.searchParams;
    const precision = q.get('precision') || 'ns';
    if (!['ns', 'us', 'ms', 's'].includes(precision)) {
      this.sendError(res, 400, 'invalid precision; valid precision units are ns, us, ms, and s');
      return;
    }
    const bucketName = q.get('bucket') ?? '';
    if (!bucketName) {
      this.sendError(res, 404, 'bucket not found');
      return;
    }
    let body = raw;
    if (/^(x-)?gzip$/i.test(String(req.headers['content-encoding'] ?? ''))) {
      if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) {
        this.sendError(res, 400, 'gzipped HTTP body contains an invalid header');
        return;
      }
      try {
        body = gunzipSync(raw);
      } catch {
        this.sendError(res, 400, 'unable to read data: unexpected EOF');
        return;
      }
    }
    const org = this.findOrg(q.get('org'), q.get('orgID'));
    if ('error' in org) {
      this.sendError(res, org.status, org.error);
      return;
    }
    const bucket =
      this.buckets.find((b) => b.orgID === org.id && b.id === bucketName) ??
      this.buckets.find((b) => b.orgID === org.id && b.name === bucketName);
    if (!bucket) {
      this.sendError(res, 404, `bucket "${bucketName}" not found`);
      return;
    }
    if (access === 'read') {
      this.sendError(res, 403, 'insufficient permissions for write');
      return;
    }
    if (body.length > this.maxBodyBytes) {
      this.sendError(res, 413, 'unable to read data: points batch is too large');
      return;
    }
    if (body.length === 0) {
      this.sendError(res, 400, 'writing requires points');
      return;
    }
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const parsed = parseLineProtocol(body.toString('utf8'), precision, nowNs);
    if (parsed.errors.length > 0) {
      this.sendError(res, 400, parsed.errors.join('\n'));
      return;
    }
    const dropped = this.storePoints(bucket, parsed.points, nowNs);
    if (dropped.count > 0) {
      this.sendError(
        res,
        422,
        `failure writing points to database: partial write: ${dropped.reason} dropped=${dropped.count}`,
      );
      return;
    }
    res.writeHead(204);
    res.end();
  }

  private storePoints(
    bucket: FakeBucket,
    points: ParsedPoint[],
    nowNs: bigint,
  ): { count: number; reason: string } {
    let count = 0;
    let reason = '';
    const store = this.store.get(bucket.id) ?? new Map<string, StoredPoint>();
    this.store.set(bucket.id, store);
    const types = this.fieldTypes.get(bucket.id) ?? new Map<string, FieldType>();
    this.fieldTypes.set(bucket.id, types);
    const oldest =
      bucket.retentionSeconds > 0
        ? nowNs - BigInt(bucket.retentionSeconds) * 1_000_000_000n
        : undefined;
    for (const point of points) {
      if (this.partialWrite?.(point.line)) {
        count++;
        reason ||= 'points rejected by the fake (partial-write mode)';
        continue;
      }
      if (oldest !== undefined && point.timestamp < oldest) {
        count++;
        reason ||= 'points beyond retention policy';
        continue;
      }
      const conflict = Object.entries(point.fields).find(([name, f]) => {
        const known = types.get(`${point.measurement}\0${name}`);
        return known !== undefined && known !== f.type;
      });
      if (conflict) {
        const [name, f] = conflict;
        count++;
        reason ||= `field type conflict: input field "${name}" on measurement "${point.measurement}" is type ${f.type}, already exists as type ${types.get(`${point.measurement}\0${name}`)}`;
        continue;
      }
      for (const [name, f] of Object.entries(point.fields)) {
        types.set(`${point.measurement}\0${name}`, f.type);
      }
      const tagKey = Object.keys(point.tags)
        .sort(compareBytes)
        .map((k) => `${k}=${point.tags[k]}`)
        .join(',');
      const key = `${point.measurement}\0${tagKey}\0${point.timestamp}`;
      const existing = store.get(key);
      const fields = Object.fromEntries(Object.entries(point.fields).map(([k, f]) => [k, f.value]));
      if (existing) {
        // Same series and time: fields merge and the newer value wins (1.x/2.x semantics).
        Object.assign(existing.fields, fields);
      } else {
        store.set(key, {
          bucket: bucket.name,
          measurement: point.measurement,
          tags: { ...point.tags },
          fields,
          timestamp: point.timestamp,
        });
      }
    }
    return { count, reason };
  }

  private findOrg(
    name: string | null,
    id: string | null,
  ): FakeOrg | { status: number; error: string } {
    if (id) {
      return this.orgs.find((o) => o.id === id) ?? { status: 404, error: 'organization not found' };
    }
    if (name) {
      return (
        this.orgs.find((o) => o.id === name || o.name === name) ?? {
          status: 404,
          error: `organization name "${name}" not found`,
        }
      );
    }
    return { status: 400, error: 'Please provide either orgID or org' };
  }

  private handleGetOrgs(url: URL, access: Access, res: http.ServerResponse): void {
    const name = url.searchParams.get('org');
    const id = url.searchParams.get('orgID');
    let orgs = this.orgs;
    if (name || id) {
      const org = this.findOrg(name, id);
      if ('error' in org) {
        this.sendError(res, org.status, org.error);
        return;
      }
      orgs = [org];
    }
    // The authorizer drops what the token may not read (read:orgs/<id>) after the look-up.
    if (access === 'write') orgs = [];
    this.sendJson(res, 200, {
      links: { self: '/api/v2/orgs' },
      orgs: orgs.map((o) => orgJson(o)),
    });
  }

  private handleGetBuckets(url: URL, access: Access, res: http.ServerResponse): void {
    const q = url.searchParams;
    let buckets = this.buckets;
    const orgFilter = q.get('org') || q.get('orgID');
    if (orgFilter) {
      const org = this.findOrg(q.get('org'), q.get('orgID'));
      if ('error' in org) {
        this.sendError(res, org.status, org.error);
        return;
      }
      buckets = buckets.filter((b) => b.orgID === org.id);
    }
    const name = q.get('name');
    if (name) {
      buckets = buckets.filter((b) => b.name === name);
      if (buckets.length === 0 && orgFilter) {
        this.sendError(res, 404, `bucket "${name}" not found`);
        return;
      }
    }
    const id = q.get('id');
    if (id) buckets = buckets.filter((b) => b.id === id);
    if (access === 'write') buckets = [];
    this.sendJson(res, 200, {
      links: { self: '/api/v2/buckets' },
      buckets: buckets.map((b) => bucketJson(b)),
    });
  }

  private handlePostBuckets(raw: Buffer, access: Access, res: http.ServerResponse): void {
    let input: {
      orgID?: string;
      name?: string;
      description?: string;
      retentionRules?: {
        type?: string;
        everySeconds?: number;
        shardGroupDurationSeconds?: number;
      }[];
    };
    try {
      input = JSON.parse(raw.toString('utf8')) as typeof input;
    } catch {
      this.sendError(res, 400, 'invalid json');
      return;
    }
    const org = this.orgs.find((o) => o.id === input.orgID);
    if (!org) {
      this.sendError(res, 404, 'organization not found');
      return;
    }
    if (access !== 'all') {
      // authorizer.go: a missing permission is EUnauthorized, which 2.x answers with 401.
      this.sendError(res, 401, `write:orgs/${org.id}/buckets is unauthorized`);
      return;
    }
    if (!input.name) {
      this.sendError(res, 422, 'bucket name is required');
      return;
    }
    const rules = input.retentionRules ?? [];
    if (rules.length > 1) {
      this.sendError(res, 422, 'expected at most one retention rule');
      return;
    }
    const every = rules[0]?.everySeconds ?? 0;
    if (every !== 0 && every < 3600) {
      this.sendError(res, 422, 'retention policy duration must be at least 1h0m0s');
      return;
    }
    if (this.buckets.some((b) => b.orgID === org.id && b.name === input.name)) {
      this.sendError(res, 422, `bucket with name ${input.name} already exists`);
      return;
    }
    const bucket = this.createBucket(org.name, input.name, every);
    if (rules[0]?.shardGroupDurationSeconds) {
      bucket.shardGroupDurationSeconds = rules[0].shardGroupDurationSeconds;
    }
    if (input.description) bucket.description = input.description;
    this.sendJson(res, 201, bucketJson(bucket));
  }

  private handlePatchBucket(
    id: string,
    raw: Buffer,
    access: Access,
    res: http.ServerResponse,
  ): void {
    let input: {
      name?: string;
      description?: string;
      retentionRules?: { everySeconds?: number; shardGroupDurationSeconds?: number }[];
    };
    try {
      input = JSON.parse(raw.toString('utf8')) as typeof input;
    } catch {
      this.sendError(res, 400, 'invalid json');
      return;
    }
    const bucket = this.buckets.find((b) => b.id === id);
    if (!bucket) {
      this.sendError(res, 404, 'bucket not found');
      return;
    }
    if (access !== 'all') {
      this.sendError(res, 401, `write:orgs/${bucket.orgID}/buckets/${bucket.id} is unauthorized`);
      return;
    }
    const rules = input.retentionRules ?? [];
    if (rules.length > 1) {
      this.sendError(res, 422, 'expected at most one retention rule');
      return;
    }
    // No rules means no change of retention (PatchRetentionRules in the 2.x API).
    if (rules[0]) {
      const every = rules[0].everySeconds ?? 0;
      if (every !== 0 && every < 3600) {
        this.sendError(res, 422, 'retention policy duration must be at least 1h0m0s');
        return;
      }
      bucket.retentionSeconds = every;
      bucket.shardGroupDurationSeconds =
        rules[0].shardGroupDurationSeconds || shardGroupDuration(every);
    }
    if (input.name) bucket.name = input.name;
    if (input.description !== undefined) bucket.description = input.description;
    this.sendJson(res, 200, bucketJson(bucket));
  }

  /** InfluxDB 3 Core's database API, as far as provisioning uses it. */
  private handleV3(
    req: http.IncomingMessage,
    url: URL,
    raw: Buffer,
    res: http.ServerResponse,
  ): void {
    const v3Error = (status: number, error: string): void => this.sendJson(res, status, { error });
    if (url.pathname !== '/api/v3/configure/database') {
      v3Error(404, 'not found');
      return;
    }
    const access = this.authorize(req);
    if (!access) {
      v3Error(401, 'unauthorized access');
      return;
    }
    if (access !== 'all') {
      v3Error(403, 'forbidden: the token may not manage databases');
      return;
    }
    const org = this.orgs.find((o) => o.name === this.org)!;
    const databases = this.buckets.filter((b) => b.orgID === org.id);
    if (req.method === 'GET') {
      this.sendJson(
        res,
        200,
        databases.map((b) => ({ 'iox::database': b.name })),
      );
      return;
    }
    if (req.method !== 'POST') {
      v3Error(405, 'method not allowed');
      return;
    }
    let input: { db?: string; retention_period?: string };
    try {
      input = JSON.parse(raw.toString('utf8')) as typeof input;
    } catch {
      v3Error(400, 'invalid json');
      return;
    }
    if (!input.db || !/^[A-Za-z0-9][A-Za-z0-9_\-/]*$/.test(input.db)) {
      v3Error(400, `invalid database name: ${String(input.db)}`);
      return;
    }
    let seconds = 0;
    if (input.retention_period !== undefined) {
      const match = /^(\d+)(s|m|h|d)$/.exec(input.retention_period);
      if (!match) {
        v3Error(400, `invalid retention period: ${input.retention_period}`);
        return;
      }
      const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
      seconds = Number(match[1]) * unitSeconds[match[2]!]!;
    }
    if (databases.some((b) => b.name === input.db)) {
      v3Error(409, 'attempted to create a resource that already exists');
      return;
    }
    this.createBucket(org.name, input.db, seconds);
    res.writeHead(200);
    res.end();
  }

  private sendJson(res: http.ServerResponse, status: number, value: unknown): void {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(value));
  }

  private sendError(res: http.ServerResponse, status: number, message: string): void {
    const code = ERROR_CODES[status] ?? 'internal error';
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'X-Platform-Error-Code': code,
    });
    res.end(JSON.stringify({ code, message }));
  }
}

/** What a token may do: everything, read orgs/buckets, or only write points. */
export type Access = 'all' | 'read' | 'write';

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** 2.x defaults: 1h shards under 2 days of retention, 1 day under 6 months, else 7 days. */
function shardGroupDuration(retentionSeconds: number): number {
  if (retentionSeconds === 0 || retentionSeconds >= 180 * 86400) return 7 * 86400;
  if (retentionSeconds < 2 * 86400) return 3600;
  return 86400;
}

function orgJson(o: FakeOrg): Record<string, unknown> {
  return {
    id: o.id,
    name: o.name,
    description: '',
    createdAt: o.createdAt,
    updatedAt: o.createdAt,
    status: 'active',
    links: {
      self: `/api/v2/orgs/${o.id}`,
      buckets: `/api/v2/buckets?org=${encodeURIComponent(o.name)}`,
    },
  };
}

function bucketJson(b: FakeBucket): Record<string, unknown> {
  return {
    id: b.id,
    orgID: b.orgID,
    type: 'user',
    name: b.name,
    ...(b.description ? { description: b.description } : {}),
    retentionRules: [
      {
        type: 'expire',
        everySeconds: b.retentionSeconds,
        shardGroupDurationSeconds: b.shardGroupDurationSeconds,
      },
    ],
    createdAt: b.createdAt,
    updatedAt: b.createdAt,
    links: {
      self: `/api/v2/buckets/${b.id}`,
      write: `/api/v2/write?org=${b.orgID}&bucket=${b.id}`,
    },
    labels: [],
  };
}
