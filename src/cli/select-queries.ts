import type { PromfluxConfig, QueryConfig, TierConfig } from '../config/types.js';
import { UsageError } from '../core/errors.js';
import { Option } from 'commander';

/** The configured queries named by `--query` (all when none is named); an unknown name is refused. */
export function selectQueries(config: PromfluxConfig, names: string[]): QueryConfig[] {
  return selectNamed('--query', config.extract.queries, names);
}

/** The configured tiers named by `--tier` (all when none is named); an unknown name is refused. */
export function selectTiers(config: PromfluxConfig, names: string[]): TierConfig[] {
  return selectNamed('--tier', config.load.tiers, names);
}

function selectNamed<T extends { name: string }>(option: string, all: T[], names: string[]): T[] {
  const unknown = names.filter((name) => !all.some((q) => q.name === name));
  if (unknown.length > 0) {
    throw new UsageError(
      `Unknown ${option} ${unknown.map((n) => `"${n}"`).join(', ')}; configured: ${all.map((q) => q.name).join(', ')}.`,
    );
  }
  return names.length > 0 ? all.filter((q) => names.includes(q.name)) : all;
}

/** `--query <name>`, repeatable. */
export function queryOption(): Option {
  return repeatable('--query <name>', 'only this query (repeatable)');
}

/** `--tier <name>`, repeatable. */
export function tierOption(): Option {
  return repeatable('--tier <name>', 'only this storage tier (repeatable)');
}

function repeatable(flags: string, description: string): Option {
  return new Option(flags, description)
    .argParser((value: string, previous: string[]) => [...previous, value])
    .default([]);
}
