// Preloaded with `node --import` by tests: appends the URL of every module the process loads,
// one a line, to the file named by $RECORD_MODULES (the hooks run on their own thread).
import { register } from 'node:module';

if (process.env.RECORD_MODULES) {
  register('data:text/javascript,' + encodeURIComponent(`
    import { appendFileSync } from 'node:fs';
    const file = ${JSON.stringify(process.env.RECORD_MODULES)};
    export async function load(url, context, next) {
      appendFileSync(file, url + '\\n');
      return next(url, context);
    }
  `));
}
