import type { Command } from 'commander';
import type { CliIo } from '../io.js';

/** What a command's action gets from the CLI: its I/O, and where its exit code goes. */
export interface CommandContext {
  io: CliIo;
  /** Sets the exit code `main` resolves to (see exit-codes.ts). */
  setExit: (code: number) => void;
}

/** Adds one subcommand to `program`: its name, options, help text and action. */
export type RegisterCommand = (program: Command, ctx: CommandContext) => void;
