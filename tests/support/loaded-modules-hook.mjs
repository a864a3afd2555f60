// `node --import` this file to have every module the process loads appended, one URL or path a
// line, to the file named by PROMFLUX_LOADED_MODULES: ES modules through a load hook (which runs
// in its own thread), CommonJS ones `require`d by other CommonJS ones through Module._load.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const out = process.env.PROMFLUX_LOADED_MODULES;
if (out) {
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    const loaded = load.apply(this, arguments);
    try {
      appendFileSync(out, `${Module._resolveFilename(request, parent, isMain)}\n`);
    } catch {
      // A built-in or an unresolvable name: nothing on disk to list.
    }
    return loaded;
  };
  register(
    'data:text/javascript,' +
      encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  const result = await next(url, context);
  appendFileSync(${JSON.stringify(out)}, url + '\\n');
  return result;
}`),
  );
}
