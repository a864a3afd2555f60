/** The `server` section: where the metrics and status endpoint listens, and who may read it. */
import { z } from 'zod';
import { basicAuth } from '../blocks.js';
import { boolean, leaf, nonEmptyText, text } from '../leaf.js';

const LISTEN = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/;

/** Credentials `/status` and the status page (and `/metrics`, if asked) require. */
const auth = z
  .strictObject({
    bearer_token: text().optional(),
    bearer_token_file: nonEmptyText('a file path').optional(),
    basic_auth: basicAuth(),
    protect_metrics: boolean().prefault(false),
  })
  .optional();

export const server = z
  .strictObject({
    listen: leaf<string | false>(
      '"host:port" (e.g. "127.0.0.1:9469", ":9469" for every interface) or false',
      (input) => {
        if (input === false) return { value: false };
        if (typeof input !== 'string') return { error: 'must be "host:port" or false' };
        const match = LISTEN.exec(input);
        const port = match ? Number(match[1]) : NaN;
        if (!(port >= 1 && port <= 65535)) {
          return { error: 'must be "host:port" with a port from 1 to 65535, or false' };
        }
        return { value: input };
      },
    ).prefault('127.0.0.1:9469'),
    auth,
  })
  .prefault({});
