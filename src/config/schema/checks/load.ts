/** Rules across keys of `load.influxdb`: what each API needs, one way to authenticate. */
import {
  invalidDatabaseTargetMessage,
  splitDatabaseTarget,
} from '../../../core/database-target.js';
import type { KeyPath } from '../key-path.js';
import { bucketRequiredIssue } from './tiers.js';
import { RETRY_DEFAULTS } from '../blocks.js';
import {
  authorizationHeaderIssues,
  child,
  isSet,
  issueSink,
  retryIssues,
  tlsFindings,
  type CrossCheck,
} from './rules.js';

export const loadChecks: CrossCheck = (doc, found) => {
  const issue = issueSink(found);
  bucketRequiredIssue(doc, issue);
  const influx = child(child(doc, 'load'), 'influxdb');
  const at = (key: string): KeyPath => ['load', 'influxdb', key];
  const api = child(influx, 'api');
  const hasToken = isSet(child(influx, 'token')) || isSet(child(influx, 'token_file'));
  if (api === 'v2' && !hasToken) issue(at('token'), 'required for the v2 API (or set token_file)');
  if (api === 'v2' && !isSet(child(influx, 'org')))
    issue(at('org'), 'required for the v2 API (the organization name)');
  const bucket = child(influx, 'bucket');
  if (api === 'v1' && typeof bucket === 'string' && bucket.trim() !== '') {
    if (!splitDatabaseTarget(bucket)) issue(at('bucket'), invalidDatabaseTargetMessage(bucket));
  }
  const hasPassword = isSet(child(influx, 'password')) || isSet(child(influx, 'password_file'));
  if (hasPassword && !isSet(child(influx, 'username'))) {
    issue(at('username'), 'required when password or password_file is set');
  }
  const influxAuth = hasToken || hasPassword || isSet(child(influx, 'username'));
  authorizationHeaderIssues(
    child(influx, 'headers'),
    at('headers'),
    influxAuth,
    'token / username',
    issue,
  );
  tlsFindings(child(influx, 'tls'), at('tls'), child(influx, 'url'), 'load.influxdb.url', found);
  retryIssues(child(influx, 'retry'), at('retry'), RETRY_DEFAULTS.influxdb, issue);
};
