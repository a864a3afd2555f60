import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/core/logger.js';
import {
  REDACTED,
  redactedStream,
  Redactor,
  redactUrl,
  type Credentials,
} from '../../../src/core/redact.js';

const TOKEN = 'tok-9f8e7d6c5b4a';
const PASSWORD = 'p@ss w/rd:&"<>';
const base64 = (text: string): string => Buffer.from(text).toString('base64');

const credentials: Credentials = {
  secrets: [TOKEN, PASSWORD],
  basic: [{ username: 'writer', password: PASSWORD }],
};
const redactor = Redactor.of(credentials);

describe('Redactor', () => {
  it.each([
    ['raw', `echo ${TOKEN} end`, `echo ${REDACTED} end`],
    ['Token scheme', `Authorization: Token ${TOKEN}`, `Authorization: Token ${REDACTED}`],
    ['Bearer scheme', `authorization: Bearer ${TOKEN}`, `authorization: Bearer ${REDACTED}`],
    [
      'Basic base64(user:password)',
      `Authorization: Basic ${base64(`writer:${PASSWORD}`)}`,
      `Authorization: Basic ${REDACTED}`,
    ],
    ['user:password', `writer:${PASSWORD}`, `writer:${REDACTED}`],
    [
      'URL userinfo',
      `http://writer:${encodeURIComponent(PASSWORD)}@influx:8086/write`,
      `http://writer:${REDACTED}@influx:8086/write`,
    ],
    ['URL-encoded', `p=${encodeURIComponent(PASSWORD)}&q=1`, `p=${REDACTED}&q=1`],
    [
      'form-encoded',
      `p=${new URLSearchParams({ p: PASSWORD }).toString().slice(2)}`,
      `p=${REDACTED}`,
    ],
    ['JSON-escaped', JSON.stringify({ body: `x ${PASSWORD} y` }), `{"body":"x ${REDACTED} y"}`],
    ['HTML-escaped', `<td>p@ss w/rd:&amp;&quot;&lt;&gt;</td>`, `<td>${REDACTED}</td>`],
  ])('redacts the %s form', (_name, text, expected) => {
    expect(redactor.redact(text)).toBe(expected);
  });

  it('redacts every occurrence and leaves other text alone', () => {
    expect(redactor.redact(`${TOKEN}${TOKEN} and ${TOKEN}`)).toBe(
      `${REDACTED}${REDACTED} and ${REDACTED}`,
    );
    expect(redactor.redact('nothing secret here')).toBe('nothing secret here');
    expect(Redactor.none().redact(`Token ${TOKEN}`)).toBe(`Token ${TOKEN}`);
  });

  it('keeps JSON valid when a secret holds characters JSON escapes', () => {
    const line = JSON.stringify({
      msg: `got ${PASSWORD}`,
      err: `Basic ${base64(`writer:${PASSWORD}`)}`,
    });
    const out = redactor.redact(line);
    expect(JSON.parse(out)).toEqual({ msg: `got ${REDACTED}`, err: `Basic ${REDACTED}` });
  });

  it('learns the secrets of a reloaded configuration and keeps the old ones', () => {
    const r = Redactor.of({ secrets: ['old-token-1'], basic: [] });
    r.include(Redactor.of({ secrets: ['new-token-2'], basic: [] }));
    expect(r.redact('Token old-token-1, Token new-token-2')).toBe(
      `Token ${REDACTED}, Token ${REDACTED}`,
    );
  });

  it('redacts short secrets only in their prefixed forms', () => {
    const short = Redactor.of({ secrets: ['ab1'], basic: [{ username: 'u', password: 'ab1' }] });
    expect(short.redact('Token ab1, Bearer ab1, tab1e')).toBe(
      `Token ${REDACTED}, Bearer ${REDACTED}, tab1e`,
    );
    expect(short.redact(`Basic ${base64('u:ab1')} u:ab1`)).toBe(`Basic ${REDACTED} u:${REDACTED}`);
  });

  it('redacts the base64 of a user without password (URL userinfo token)', () => {
    const r = Redactor.of({
      secrets: ['user-token-1'],
      basic: [{ username: 'user-token-1', password: '' }],
    });
    expect(r.redact(`Basic ${base64('user-token-1:')}`)).toBe(`Basic ${REDACTED}`);
  });
});

describe('redactUrl', () => {
  it('drops credentials, query string and fragment', () => {
    expect(redactUrl('https://u:secret-pw@influx:8086/prefix/?token=x#frag')).toBe(
      'https://influx:8086/prefix',
    );
    expect(redactUrl('not a url')).toBe('<invalid url>');
  });
});

describe('redactedStream', () => {
  it('passes each write on, redacted, before the call returns', () => {
    const written: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString());
        done();
      },
    });
    const stream = redactedStream(out, redactor);
    stream.write(`FAIL influxdb: 500 Authorization: Token ${TOKEN}\n`);
    stream.write('ok  next\n');
    expect(written).toEqual([
      `FAIL influxdb: 500 Authorization: Token ${REDACTED}\n`,
      'ok  next\n',
    ]);
  });
});

describe('the logger', () => {
  it('redacts secrets from messages, fields and nested errors of every line', () => {
    const dest = new PassThrough();
    const logger = createLogger({ level: 'info', destination: dest, redactor });
    logger.warn(
      { reason: `HTTP 503: {"authorization":"Token ${TOKEN}"}`, nested: { pw: PASSWORD } },
      `Write failed: Basic ${base64(`writer:${PASSWORD}`)}`,
    );
    logger.info({ token: 'by key path' }, 'plain');
    const text = String((dest.read() as Buffer | null) ?? '');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(base64(`writer:${PASSWORD}`));
    expect(text).not.toContain(JSON.stringify(PASSWORD).slice(1, -1));
    const [first, second] = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({
      msg: `Write failed: Basic ${REDACTED}`,
      reason: `HTTP 503: {"authorization":"Token ${REDACTED}"}`,
      nested: { pw: REDACTED },
    });
    expect(second).toMatchObject({ msg: 'plain', token: REDACTED });
  });
});
