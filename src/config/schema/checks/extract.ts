/** Rules across keys of `extract`: one way to authenticate, unique query names, label rules. */
import { isRecord } from '../../plain-object.js';
import { RETRY_DEFAULTS } from '../blocks.js';
import {
  authorizationHeaderIssues,
  child,
  isSet,
  issueSink,
  labelRuleIssues,
  retryIssues,
  tlsFindings,
  type CrossCheck,
} from './rules.js';

export const extractChecks: CrossCheck = (doc, found) => {
  const issue = issueSink(found);
  const ex = child(doc, 'extract');
  const hasBasicAuth = isRecord(child(ex, 'basic_auth'));
  for (const key of ['bearer_token', 'bearer_token_file']) {
    if (hasBasicAuth && isSet(child(ex, key))) {
      issue(
        ['extract', key],
        'cannot be combined with basic_auth (choose one way to authenticate)',
      );
    }
  }
  const exAuth =
    hasBasicAuth || isSet(child(ex, 'bearer_token')) || isSet(child(ex, 'bearer_token_file'));
  authorizationHeaderIssues(
    child(ex, 'headers'),
    ['extract', 'headers'],
    exAuth,
    'basic_auth / bearer_token',
    issue,
  );
  tlsFindings(
    child(ex, 'tls'),
    ['extract', 'tls'],
    child(ex, 'prometheus_url'),
    'extract.prometheus_url',
    found,
  );
  retryIssues(child(ex, 'retry'), ['extract', 'retry'], RETRY_DEFAULTS.extract, issue);

  const queries = child(ex, 'queries');
  if (Array.isArray(queries)) {
    const firstIndex = new Map<string, number>();
    queries.forEach((q, i) => {
      const name = child(q, 'name');
      if (typeof name === 'string') {
        const first = firstIndex.get(name);
        if (first === undefined) firstIndex.set(name, i);
        else
          issue(
            ['extract', 'queries', i, 'name'],
            `duplicate query name "${name}" (also used by queries[${first}]); names must be unique`,
          );
      }
      labelRuleIssues(child(q, 'labels'), ['extract', 'queries', i, 'labels'], issue);
    });
  }
};
