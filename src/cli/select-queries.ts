import type { PromfluxConfig, QueryConfig } from '../config/types.js';
import { UsageError } from '../core/errors.js';
import { Option } from 'commander';

/** The configured queries named by `--query` (all when none is named); an unknown name is refused. */
export function selectQueries(config: PromfluxConfig, names: string[]): QueryConfig[] {
  const all = config.extract.queries;
  const unknown = names.filter((name) => !all.some((q) => q.name === name));
  if (unknown.length > 0) {
    throw new UsageError(
      `Unknown --query ${unknown.map((n) => `"${n}"`).join(', ')}; configured: ${all.map((q) => q.name).join(', ')}.`,
    );
  }
  return names.length > 0 ? all.filter((q) => names.includes(q.name)) : all;
}

/** `--query <name>`, repeatable. */
export function queryOption(): Option {
  return new Option('--query <name>', 'only this query (repeatable)')
    .argParser((value: string, previous: string[]) => [...previous, value])
    .default([]);
}
