import { EXIT } from '../exit-codes.js';
import type { RegisterCommand } from './command.js';

/** `promflux check-config`: validates the configuration, usable as systemd `ExecStartPre`. */
export const registerCheckConfig: RegisterCommand = (program, { io, setExit }) => {
  program
    .command('check-config')
    .description('validate the configuration file and exit (0 valid, 2 invalid)')
    .option('-c, --config <file>', 'config file')
    .action(async (opts: { config?: string }) => {
      const [{ loadConfig }, { printConfigWarnings }] = await Promise.all([
        import('../load-config.js'),
        import('../print-warnings.js'),
      ]);
      const { config, path, warnings } = await loadConfig(io, opts.config);
      printConfigWarnings(io.stderr, config, warnings);
      io.stdout.write(
        `${path}: valid. ${config.extract.queries.length} queries: ` +
          `${config.extract.queries.map((q) => q.name).join(', ')}.\n`,
      );
      setExit(EXIT.OK);
    });
};
