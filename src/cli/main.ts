import { Command, CommanderError } from 'commander';
import { closestMatch } from '../config/suggest.js';
import { ConfigError, UsageError, describeError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { COMMANDS } from './commands/index.js';
import { withCommonOptions, type CommonOptions } from './common-options.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';

export type { CliIo } from './io.js';

/** Runs the CLI and resolves to the process exit code (see exit-codes.ts); never throws. */
export async function main(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const ctx: CliIo = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    env: io.env ?? process.env,
    now: io.now ?? Date.now,
  };
  let exitCode: number = EXIT.OK;
  const program = buildProgram(ctx, (code) => (exitCode = code));
  // A reader that stops early (`| head`) only ends the output; the run goes on.
  const ignoreClosedOutput = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EPIPE') throw err;
  };
  ctx.stdout.on('error', ignoreClosedOutput);
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    return reportFatal(ctx, err);
  } finally {
    ctx.stdout.off('error', ignoreClosedOutput);
  }
}

/** The root (`--once`, `--version`, `help`) and every command of `commands/index.ts`. */
function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('promflux')
    .description('Moves health metrics from Prometheus into InfluxDB.')
    .version(VERSION)
    .exitOverride()
    // Root options (--once, --config) only before a subcommand, so `backfill --config` is backfill's.
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)')
    // `promflux help [command]`: the root's own action would otherwise hide commander's.
    .helpCommand(true)
    // Operands reach the root action only when they name no command: reported there as unknown.
    .allowExcessArguments();

  withCommonOptions(program)
    .option('--once', 'run one cycle over the last interval and exit (same as `run --once`)')
    .action(async (opts: CommonOptions & { once?: boolean }) => {
      const [word] = program.args;
      if (word !== undefined) {
        const names = [...program.commands.map((c) => c.name()), 'help'];
        const guess = closestMatch(word, names);
        program.error(
          `error: unknown command '${word}'${guess ? `, did you mean ${guess}?` : ''} ` +
            `(commands: ${names.join(', ')})`,
          { exitCode: EXIT.USAGE, code: 'commander.unknownCommand' },
        );
      }
      if (!opts.once) {
        program.outputHelp();
        setExit(EXIT.USAGE);
        return;
      }
      const { runOnce } = await import('./commands/once.js');
      setExit(await runOnce(io, opts));
    });

  for (const register of COMMANDS) register(program, { io, setExit });
  return program;
}

function reportFatal(io: CliIo, err: unknown): number {
  if (err instanceof ConfigError) {
    io.stderr.write(`promflux: ${err.message}\n`);
    return EXIT.USAGE;
  }
  if (err instanceof UsageError) {
    io.stderr.write(`promflux: ${err.message}\n`);
    return EXIT.USAGE;
  }
  const text = describeError(err);
  io.stderr.write(`promflux: ${io.redactor ? io.redactor.redact(text) : text}\n`);
  return EXIT.FAILURE;
}
