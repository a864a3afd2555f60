import type { Writable } from 'node:stream';
import type { PromfluxConfig } from '../config/types.js';
import { transformWarnings } from '../transform/config-warnings.js';

/** The config's warnings (loading, TLS, transforms) as `warning: …` lines, for one-shot commands. */
export function printConfigWarnings(
  stderr: Writable,
  config: PromfluxConfig,
  warnings: readonly string[],
): void {
  for (const w of [...warnings, ...transformWarnings(config)]) stderr.write(`warning: ${w}\n`);
}
