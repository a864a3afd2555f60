import type { Writable } from 'node:stream';
import type { Redactor } from '../core/redact.js';
import type { QueryRunResult } from '../pipeline/run-query.js';
import { formatQuerySummary, summaryRecord, type SummaryContext } from './summary.js';

/** One query run's summary, redacted: a line for people, or with `json` a JSON record. */
export function writeSummary(
  out: Writable,
  r: QueryRunResult,
  opts: { json?: boolean; redactor: Redactor; context: SummaryContext },
): void {
  out.write(
    opts.redactor.redact(
      opts.json
        ? JSON.stringify(summaryRecord(r, opts.context))
        : formatQuerySummary(r, opts.context),
    ) + '\n',
  );
}

/** The closing note of a run whose sink dead-lettered `rejected` (> 0) points. */
export function writeRejectedNote(out: Writable, rejected: number, deadLetterPath: string): void {
  out.write(
    `* ${rejected} point${rejected === 1 ? ' was' : 's were'} rejected by the sink as malformed ` +
      `and saved to the dead-letter file ${deadLetterPath}.\n`,
  );
}
