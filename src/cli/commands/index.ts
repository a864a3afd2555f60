import { registerBackfill } from './backfill.js';
import { registerCheckConfig } from './check-config.js';
import { registerCheck } from './check.js';
import type { RegisterCommand } from './command.js';
import { registerExport } from './export.js';
import { registerProvision } from './provision.js';
import { registerRun } from './run.js';
import { registerVerify } from './verify.js';

/** Every subcommand, in the order `--help` lists them: a new command is its file and a line here. */
export const COMMANDS: readonly RegisterCommand[] = [
  registerRun,
  registerBackfill,
  registerExport,
  registerCheckConfig,
  registerCheck,
  registerProvision,
  registerVerify,
];
