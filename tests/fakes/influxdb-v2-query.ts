/**
 * `POST /api/v2/query` for the InfluxDB 2.x fake: the Flux subset promflux sends
 * (`from |> range |> filter(_measurement and tags) |> filter(_field or ...)`), answered in
 * annotated CSV from the points written to the fake, as InfluxDB 2.7 answers it: one table per
 * series and field (group key `_start, _stop, _field, _measurement` and the tags), sorted by group
 * key and time; a new annotation block (after an empty line) whenever the columns change, and
 * consecutive tables with the same columns in one block. Times are RFC 3339 with nanoseconds,
 * trailing zeros trimmed; `range` is half-open. Anything else is refused with 400, as a Flux
 * compile error would be.
 */
import type http from 'node:http';
import type { FieldValue, InfluxDbV2Fake, StoredPoint } from './influxdb-v2-fake.js';

/** A parsed query of the subset. */
export interface FluxSubsetQuery {
  bucket: string;
  startNs: bigint;
  stopNs: bigint;
  measurement: string;
  tags: Record<string, string>;
  fields: string[];
}

const STRING = String.raw`"((?:[^"\\]|\\.)*)"`;

function unescapeFlux(text: string): string {
  return text.replace(/\\(.)/g, (_m, c: string) =>
    c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c,
  );
}

function parseTime(text: string): bigint {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(text);
  if (!match) throw new Error(`invalid time literal ${text}`);
  const seconds = BigInt(Date.parse(`${match[1]}Z`) / 1000);
  const fraction = BigInt((match[2] ?? '').padEnd(9, '0'));
  return seconds * 1_000_000_000n + fraction;
}

/** Parses the subset; throws with a Flux-like message otherwise. */
export function parseFluxSubset(query: string): FluxSubsetQuery {
  const text = query.trim();
  const from = new RegExp(String.raw`^from\(bucket:\s*${STRING}\)`).exec(text);
  if (!from) throw new Error('error calling function "from": missing bucket');
  const range = /\|>\s*range\(start:\s*(\S+?),\s*stop:\s*(\S+?)\)/.exec(text);
  if (!range) throw new Error('the fake only answers queries with range(start:, stop:)');
  const filters = [...text.matchAll(/\|>\s*filter\(fn:\s*\(r\)\s*=>\s*(.*)\)\s*$/gm)].map(
    (m) => m[1]!,
  );
  let measurement: string | undefined;
  const tags: Record<string, string> = {};
  let fields: string[] | undefined;
  for (const body of filters) {
    const fieldTerms = body.split(/\s+or\s+/);
    if (fieldTerms.every((t) => new RegExp(String.raw`^r\._field == ${STRING}$`).test(t.trim()))) {
      fields = fieldTerms.map((t) => unescapeFlux(new RegExp(STRING).exec(t)![1]!));
      continue;
    }
    for (const term of body.split(/\s+and\s+/)) {
      const m = new RegExp(String.raw`^r(?:\._measurement|\[${STRING}\]) == ${STRING}$`).exec(
        term.trim(),
      );
      if (!m) throw new Error(`the fake does not understand the predicate ${term}`);
      if (m[1] === undefined) measurement = unescapeFlux(m[2]!);
      else tags[unescapeFlux(m[1])] = unescapeFlux(m[2]!);
    }
  }
  if (measurement === undefined || fields === undefined) {
    throw new Error('the fake needs a _measurement filter and a _field filter');
  }
  return {
    bucket: unescapeFlux(from[1]!),
    startNs: parseTime(range[1]!),
    stopNs: parseTime(range[2]!),
    measurement,
    tags,
    fields,
  };
}

/** Go's RFC3339Nano: fraction digits with trailing zeros trimmed, none when whole seconds. */
export function rfc3339Nano(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = ns % 1_000_000_000n;
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  if (fraction === 0n) return `${base}Z`;
  return `${base}.${fraction.toString().padStart(9, '0').replace(/0+$/, '')}Z`;
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function dataType(value: FieldValue): string {
  if (typeof value === 'bigint') return 'long';
  if (typeof value === 'number') return 'double';
  if (typeof value === 'boolean') return 'boolean';
  return 'string';
}

interface Table {
  key: string;
  field: string;
  tags: [string, string][];
  type: string;
  rows: { timestamp: bigint; value: FieldValue }[];
}

/** The annotated CSV InfluxDB 2.7 answers for `q` over `points`. */
export function annotatedCsv(q: FluxSubsetQuery, points: readonly StoredPoint[]): string {
  const tables = new Map<string, Table>();
  for (const p of points) {
    if (p.measurement !== q.measurement) continue;
    if (p.timestamp < q.startNs || p.timestamp >= q.stopNs) continue;
    if (Object.entries(q.tags).some(([k, v]) => p.tags[k] !== v)) continue;
    const tags = Object.entries(p.tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const field of q.fields) {
      const value = p.fields[field];
      if (value === undefined) continue;
      const key = JSON.stringify([field, q.measurement, tags]);
      let table = tables.get(key);
      if (!table) {
        table = { key, field, tags, type: dataType(value), rows: [] };
        tables.set(key, table);
      }
      table.rows.push({ timestamp: p.timestamp, value });
    }
  }
  const sorted = [...tables.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  const start = rfc3339Nano(q.startNs);
  const stop = rfc3339Nano(q.stopNs);
  const out: string[] = [];
  let header = '';
  sorted.forEach((table, id) => {
    const columns = [
      'result',
      'table',
      '_start',
      '_stop',
      '_time',
      '_value',
      '_field',
      '_measurement',
      ...table.tags.map(([k]) => k),
    ];
    const types = [
      'string',
      'long',
      'dateTime:RFC3339',
      'dateTime:RFC3339',
      'dateTime:RFC3339',
      table.type,
      'string',
      'string',
      ...table.tags.map(() => 'string'),
    ];
    const group = columns.map((c) => !['result', 'table', '_time', '_value'].includes(c));
    const block = [
      `#group,${group.join(',')}`,
      `#datatype,${types.join(',')}`,
      `#default,_result,${columns
        .slice(1)
        .map(() => '')
        .join(',')}`,
      `,${columns.map(csvCell).join(',')}`,
    ].join('\r\n');
    if (block !== header) {
      if (header !== '') out.push('');
      out.push(block);
      header = block;
    }
    table.rows.sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1));
    const fixed = [start, stop].join(',');
    const after = [table.field, q.measurement, ...table.tags.map(([, v]) => v)]
      .map(csvCell)
      .join(',');
    for (const row of table.rows) {
      out.push(`,,${id},${fixed},${rfc3339Nano(row.timestamp)},${String(row.value)},${after}`);
    }
  });
  return out.length === 0 ? '' : `${out.join('\r\n')}\r\n\r\n`;
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string) {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'X-Platform-Error-Code': code,
  });
  res.end(JSON.stringify({ code, message }));
}

/** Mounts `POST /api/v2/query` on the fake. */
export function mountQueryEndpoint(fake: InfluxDbV2Fake): void {
  fake.mount('POST /api/v2/query', ({ body, access, org, res }) => {
    if ('error' in org) {
      sendError(res, org.status, org.status === 404 ? 'not found' : 'invalid', org.error);
      return;
    }
    let request: { query?: unknown; type?: unknown };
    try {
      request = JSON.parse(body.toString('utf8')) as typeof request;
    } catch {
      sendError(res, 400, 'invalid', 'failed to decode request body: invalid JSON');
      return;
    }
    if (typeof request.query !== 'string' || (request.type ?? 'flux') !== 'flux') {
      sendError(res, 400, 'invalid', 'the fake answers Flux queries only');
      return;
    }
    let q: FluxSubsetQuery;
    try {
      q = parseFluxSubset(request.query);
    } catch (err) {
      sendError(res, 400, 'invalid', `compilation failed: ${(err as Error).message}`);
      return;
    }
    const bucket = fake.findBucket(q.bucket);
    if (!bucket || bucket.orgID !== org.id || access === 'write') {
      sendError(
        res,
        404,
        'not found',
        `failed to initialize execute state: could not find bucket "${q.bucket}"`,
      );
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/csv; charset=utf-8' });
    res.end(annotatedCsv(q, fake.points(q.bucket)));
  });
}
