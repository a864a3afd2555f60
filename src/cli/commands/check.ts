import { EXIT } from '../exit-codes.js';
import type { RegisterCommand } from './command.js';

/** `promflux check`: connectivity to both ends (the checks themselves are in ../check.ts). */
export const registerCheck: RegisterCommand = (program, { io, setExit }) => {
  program
    .command('check')
    .description(
      'check connectivity: Prometheus ready + build info; InfluxDB reachable, authenticated, target exists',
    )
    .option('-c, --config <file>', 'config file')
    .action(async (opts: { config?: string }) => {
      const [
        { createLogger },
        { redactedStream },
        { runChecks },
        { loadConfig },
        { printConfigWarnings },
      ] = await Promise.all([
        import('../../core/logger.js'),
        import('../../core/redact.js'),
        import('../check.js'),
        import('../load-config.js'),
        import('../print-warnings.js'),
      ]);
      const { config, warnings, redactor } = await loadConfig(io, opts.config);
      printConfigWarnings(redactedStream(io.stderr, redactor), config, warnings);
      const logger = createLogger({ level: 'warn', redactor });
      const ok = await runChecks(config, logger, redactedStream(io.stdout, redactor));
      setExit(ok ? EXIT.OK : EXIT.FAILURE);
    });
};
