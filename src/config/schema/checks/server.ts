/** Rules across keys of `server.auth`: at least one credential, each given one way, no empty one. */
import { isRecord } from '../../plain-object.js';
import { child, isSet, issueSink, type CrossCheck } from './rules.js';

export const serverChecks: CrossCheck = (doc, found) => {
  const issue = issueSink(found);
  const auth = child(child(doc, 'server'), 'auth');
  if (!isRecord(auth)) return;
  const basic = child(auth, 'basic_auth');
  const hasBearer = isSet(child(auth, 'bearer_token')) || isSet(child(auth, 'bearer_token_file'));
  if (!hasBearer && !isRecord(basic)) {
    issue(
      ['server', 'auth'],
      'set bearer_token (or bearer_token_file), basic_auth, or both; without one every request would be refused',
    );
  }
  if (isRecord(basic) && !isSet(basic.password) && !isSet(basic.password_file)) {
    // An empty password would let anyone who knows the user name in.
    issue(['server', 'auth', 'basic_auth', 'password'], 'required (or set password_file)');
  }
};
