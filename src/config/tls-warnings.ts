import { redactUrl } from '../core/redact.js';
import type { PromfluxConfig } from './types.js';

/**
 * One warning per endpoint that skips certificate verification. Given once per configuration
 * loaded (a run, or a reload), never per request: the agent that skips is made once, and a line
 * per connection would bury everything else in the log.
 */
export function insecureTlsWarnings(config: PromfluxConfig): string[] {
  const endpoints = [
    ['extract.tls', config.extract.endpoint],
    ['load.influxdb.tls', config.load.influxdb.endpoint],
  ] as const;
  return endpoints
    .filter(([, e]) => e.tls.insecureSkipVerify && /^https:/i.test(e.url.trim()))
    .map(
      ([key, e]) =>
        `${key}.insecure_skip_verify: the certificate of ${redactUrl(e.url)} is not verified, ` +
        'so anyone on the network path can read and change the traffic, credentials included. ' +
        `Prefer ${key}.ca_file (and server_name) for a private CA.`,
    );
}
