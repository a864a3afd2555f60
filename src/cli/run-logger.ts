import type { PromfluxConfig } from '../config/types.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { Redactor } from '../core/redact.js';
import { transformWarnings } from '../transform/config-warnings.js';

/** The logger of a run, after logging the config's warnings. */
export function runLogger(
  config: PromfluxConfig,
  warnings: readonly string[],
  redactor: Redactor,
): Logger {
  const logger = createLogger({ level: config.pipeline.logLevel, redactor });
  for (const w of [...warnings, ...transformWarnings(config)]) logger.warn(w);
  return logger;
}
