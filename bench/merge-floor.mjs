// The floor of a merge in Node: read and gunzip every input, in one process, one after another
// (bench/merge.mjs times this beside the merge). Prints nothing.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

for (const file of process.argv.slice(2)) gunzipSync(readFileSync(file));
