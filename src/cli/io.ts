import type { Writable } from 'node:stream';
import type { Redactor } from '../core/redact.js';

/** What a command reads and writes besides its files and servers: injected by tests. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  now: () => number;
  /** Set once a configuration is loaded: removes its secrets from what the CLI prints. */
  redactor?: Redactor;
}
