/**
 * Redaction: the one module that knows how promflux's secrets can appear in text and removes them
 * from everything that leaves the process (log lines, CLI summaries, the status endpoints and
 * page, dead-letter files). A server or proxy may echo a request, headers included, in an error
 * body, so every form promflux itself sends a secret in is searched for, not just the raw value.
 *
 * A {@link Redactor} is built once per loaded configuration (all encodings precomputed into one
 * regular expression) and applied to error texts and outputs, never to line protocol data.
 */

/** What a secret is replaced with. */
import { Writable } from 'node:stream';

import { escapeHtml } from './html.js';

export const REDACTED = '[REDACTED]';

/** The secrets of a configuration, as promflux sends them. */
export interface Credentials {
  /**
   * Values sent as given or after a scheme: tokens (`Token x`, `Bearer x`), passwords, custom
   * header values, passwords in URLs.
   */
  secrets: readonly string[];
  /** Pairs sent as HTTP Basic auth (`Basic base64(username:password)`), and in URL userinfo. */
  basic: readonly { username: string; password: string }[];
}

/**
 * Bare values shorter than this are not searched for on their own (a 2-character password would
 * garble every word holding those letters); their prefixed forms (`Token x`, `Bearer x`,
 * `user:x`, base64) always are.
 */
export const MIN_BARE_SECRET_LENGTH = 4;

/** Keys whose values pino replaces in logged objects, whatever their text. */
export const SECRET_LOG_KEYS = [
  'token',
  'password',
  'authorization',
  'Authorization',
  '*.token',
  '*.password',
  '*.authorization',
  '*.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'headers.authorization',
  'headers.Authorization',
  'config.load.influxdb.token',
  'config.load.influxdb.password',
];

/**
 * Replaces every known form of a configuration's secrets in a text. It only ever learns more
 * secrets ({@link include}): after a reload, the old ones may still be in errors being reported.
 */
export class Redactor {
  private pattern: RegExp | undefined;
  /** Matched form → its replacement (a scheme or username stays readable). */
  private readonly replacements: Map<string, string>;

  private constructor(replacements: Map<string, string>) {
    this.replacements = replacements;
    this.pattern = patternOf(replacements);
  }

  /** A redactor for `credentials`. */
  static of(credentials: Credentials): Redactor {
    const plain = new Map<string, string>();
    const add = (form: string, replacement: string): void => {
      if (form !== '' && form !== replacement && !plain.has(form)) plain.set(form, replacement);
    };
    const addSecret = (secret: string): void => {
      for (const scheme of ['Token', 'Bearer', 'Basic']) {
        add(`${scheme} ${secret}`, `${scheme} ${REDACTED}`);
      }
      if (secret.length < MIN_BARE_SECRET_LENGTH) return;
      add(secret, REDACTED);
      add(encodeURIComponent(secret), REDACTED);
      add(new URLSearchParams({ s: secret }).toString().slice(2), REDACTED);
    };
    for (const secret of credentials.secrets) addSecret(secret);
    for (const { username, password } of credentials.basic) {
      if (password !== '') addSecret(password);
      add(Buffer.from(`${username}:${password}`).toString('base64'), REDACTED);
      if (password === '') continue;
      add(`${username}:${password}`, `${username}:${REDACTED}`);
      const user = encodeURIComponent(username);
      add(`${user}:${encodeURIComponent(password)}@`, `${user}:${REDACTED}@`);
    }
    // The same forms as they read inside JSON strings (log lines, --json) and HTML.
    const all = new Map<string, string>();
    for (const escape of [(s: string) => s, jsonEscape, escapeHtml]) {
      for (const [form, replacement] of plain) {
        const escaped = escape(form);
        if (!all.has(escaped)) all.set(escaped, escape(replacement));
      }
    }
    return new Redactor(all);
  }

  /** A redactor that knows no secrets. */
  static none(): Redactor {
    return new Redactor(new Map());
  }

  /** From now on, also redacts what `other` does (the secrets of a reloaded configuration). */
  include(other: Redactor): void {
    for (const [form, replacement] of other.replacements) {
      if (!this.replacements.has(form)) this.replacements.set(form, replacement);
    }
    this.pattern = patternOf(this.replacements);
  }

  /** `text` with every form of every secret replaced (`Token [REDACTED]`, `[REDACTED]`). */
  redact(text: string): string {
    if (!this.pattern) return text;
    return text.replace(this.pattern, (form) => this.replacements.get(form) ?? REDACTED);
  }
}

/** The URL without credentials, query string or fragment: safe for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '<invalid url>';
  }
}

/**
 * One expression for every form, longest first: at one position the whole `Token x` wins over
 * `x`, and a JSON-escaped form over the raw prefix of it.
 */
function patternOf(replacements: ReadonlyMap<string, string>): RegExp | undefined {
  const forms = [...replacements.keys()].sort((a, b) => b.length - a.length);
  return forms.length ? new RegExp(forms.map(escapeRegExp).join('|'), 'g') : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function jsonEscape(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/**
 * A stream that passes each written text on to `out`, redacted: for reports written line by line
 * (never for data such as line protocol).
 */
export function redactedStream(out: Writable, redactor: Redactor): Writable {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      // Passed on at once, so the report is out when the command returns (no backpressure needed).
      out.write(redactor.redact(chunk.toString()));
      done();
    },
  });
}
