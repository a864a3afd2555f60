import { configPathNamed, loadConfigFile, resolveConfigPath } from '../config/index.js';
import type { PromfluxConfig } from '../config/types.js';
import type { Redactor } from '../core/redact.js';
import type { CliIo } from './io.js';

export interface LoadedConfig {
  config: PromfluxConfig;
  /** Where it came from: the file, or the variables alone. */
  path: string;
  warnings: string[];
  /** The process' redactor (`io.redactor`), which now knows this configuration's secrets too. */
  redactor: Redactor;
}

/** Loads the configuration named by `--config`, `$PROMFLUX_CONFIG` or the default path. */
export async function loadConfig(io: CliIo, cliPath: string | undefined): Promise<LoadedConfig> {
  const path = resolveConfigPath(cliPath, io.env);
  const loaded = await loadConfigFile(path, io.env, {
    fileOptional: !configPathNamed(cliPath, io.env),
  });
  // One redactor per process: a reload (SIGHUP) adds its secrets, the old ones stay redacted.
  if (io.redactor) io.redactor.include(loaded.redactor);
  else io.redactor = loaded.redactor;
  return { ...loaded, redactor: io.redactor, path: loaded.source };
}
