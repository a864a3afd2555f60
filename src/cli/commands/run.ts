import { withCommonOptions, type CommonOptions } from '../common-options.js';
import type { RegisterCommand } from './command.js';

/** `promflux run`: the daemon (./run-daemon.ts); with `--once`, one cycle (./once.ts). */
export const registerRun: RegisterCommand = (program, { io, setExit }) => {
  withCommonOptions(program.command('run'))
    .description(
      'run a cycle every interval_seconds, each from the watermark of every query to now - delay; ' +
        'with --once, one cycle over [now - interval_seconds, now - delay]',
    )
    .option('--once', 'run one cycle and exit')
    .action(async (opts: CommonOptions & { once?: boolean }) => {
      if (opts.once) {
        const { runOnce } = await import('./once.js');
        setExit(await runOnce(io, opts));
      } else {
        const { runDaemonCommand } = await import('./run-daemon.js');
        setExit(await runDaemonCommand(io, opts));
      }
    });
};
