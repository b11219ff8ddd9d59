/**
 * Who holds a goroutine: in a Go goroutine profile every stack ends in the scheduler
 * (runtime.gopark, runtime.chanrecv, sync.runtime_Semacquire...), so flat values all land on a
 * few runtime functions. A leak is found by the code that parks the goroutine: the innermost
 * frame outside the runtime. Pure: a decoded profile in, counts out.
 */
import type { Profile } from 'pprof-format';
import { IdMap } from '../pprof/id-map.js';

/** Frames of the Go runtime and its internals (and sync's hooks into it), skipped from the leaf. */
const RUNTIME_FRAME = /^(runtime\.|runtime\/|internal\/|sync\.runtime_|sync\/atomic\.)/;

/**
 * Per function name, the sum of `sampleIndex` over the samples whose innermost frame outside the
 * runtime (inlined frames included, innermost first) is that function; samples with only
 * runtime frames count for their outermost frame, samples without frames for `<unknown>`.
 */
export function goroutineOwners(p: Profile, sampleIndex: number): Map<string, number> {
  const strings = p.stringTable.strings;
  const functions = IdMap.byId(p.function);
  const locations = IdMap.byId(p.location);
  const owners = new Map<string, number>();
  for (const s of p.sample) {
    let owner: string | undefined;
    let last: string | undefined;
    for (const id of s.locationId) {
      const loc = locations.get(id);
      const lines = loc?.line ?? [];
      for (const line of lines) {
        const name = strings[Number(functions.get(line.functionId)?.name ?? 0)] ?? '';
        if (name === '') continue;
        last = name;
        if (!RUNTIME_FRAME.test(name)) {
          owner = name;
          break;
        }
      }
      if (owner !== undefined) break;
    }
    const key = owner ?? last ?? '<unknown>';
    owners.set(key, (owners.get(key) ?? 0) + Number(s.value[sampleIndex] ?? 0));
  }
  return owners;
}
