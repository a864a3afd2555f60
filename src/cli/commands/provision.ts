import type { RegisterCommand } from './command.js';

export interface ProvisionFlags {
  config?: string;
  dryRun?: boolean;
  applyRetention?: boolean;
  json?: boolean;
}

/** `promflux provision`: makes every tier's database / retention policy / bucket exist. */
export const registerProvision: RegisterCommand = (program, { io, setExit }) => {
  program
    .command('provision')
    .description(
      "create the tiers' missing databases, retention policies and buckets; report retentions that differ",
    )
    .option('-c, --config <file>', 'config file')
    .option('--dry-run', 'only read: say what exists, what would be created, what differs')
    .option(
      '--apply-retention',
      'also change an existing retention that differs (shortening one deletes older data)',
    )
    .option('--json', 'print the report as JSON instead of one line per tier')
    .action(async (opts: ProvisionFlags) => {
      const { runProvision } = await import('./provision-run.js');
      setExit(await runProvision(io, opts));
    });
};
