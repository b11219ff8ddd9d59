/**
 * The frames `go tool pprof` removes before any report: profile.RemoveUninteresting, Prune and
 * simplifyFunc (profile/prune.go), with the profile's own drop_frames and keep_frames regexps.
 * driver/fetch.go applies it to every profile it reads (for -diff_base, to the combined diff),
 * so every view here reads the pruned profile; what `merge` writes is not pruned.
 */
import { Location, Profile, Sample } from 'pprof-format';
import { IdMap } from './id-map.js';
import { profileFields } from './profile-fields.js';
import { compileRe2 } from './regexp-re2.js';

/** A profile as pprof's reports read it, and why it could not be pruned when it could not. */
export interface UninterestingRemoved {
  readonly profile: Profile;
  /** Set when drop_frames or keep_frames is not a valid RE2 regexp: pprof then prunes nothing. */
  readonly warning?: string;
}

const RESERVED_NAMES = ['(anonymous namespace)', 'operator()'];

/**
 * profile.simplifyFunc: the name without a leading `.` (PPC ELF v1) and cut at the first `(`
 * that does not start a reserved name (`(anonymous namespace)`, `operator()`): C++ argument
 * lists go, and so does everything from the `(` of a Go method on a pointer receiver
 * (`main.(*T).M` is matched as `main.`), as in pprof.
 */
export function simplifyFunc(name: string): string {
  const f = name.startsWith('.') ? name.slice(1) : name;
  // bracketRx's leftmost-first matches: a reserved name where one starts, else a lone `(`.
  for (let i = 0; i < f.length; ) {
    const reserved = RESERVED_NAMES.find((r) => f.startsWith(r, i));
    if (reserved) {
      i += reserved.length;
      continue;
    }
    if (f[i] === '(') return f.slice(0, i);
    i++;
  }
  return f;
}

const cache = new WeakMap<Profile, UninterestingRemoved>();

/**
 * profile.RemoveUninteresting: when the profile has drop_frames, compiles it (and keep_frames)
 * as RE2 `^(...)$` and prunes (see pruneFrames). A pattern Go cannot compile makes pprof skip
 * pruning (fetch.go ignores the error): the profile comes back as it is, with a warning.
 * Pure: returns `p` itself when nothing is pruned, else a new profile sharing the unchanged
 * parts with `p` (treat both as read-only). Results are remembered per profile object.
 */
export function removeUninteresting(p: Profile): UninterestingRemoved {
  let done = cache.get(p);
  if (!done) {
    done = compute(p);
    cache.set(p, done);
  }
  return done;
}

function compute(p: Profile): UninterestingRemoved {
  const strings = p.stringTable.strings;
  return removeFramesMatching(p, strings[Number(p.dropFrames)] ?? '', strings[Number(p.keepFrames)] ?? '');
}

/**
 * RemoveUninteresting with given drop and keep patterns instead of the profile's own: what a
 * profile merged into one with these patterns loses (the per-service parts of a merged top).
 */
export function removeFramesMatching(p: Profile, dropText: string, keepText: string): UninterestingRemoved {
  if (dropText === '') return { profile: p };
  const drop = compileRe2(`^(${dropText})$`);
  if ('error' in drop) return { profile: p, warning: `drop_frames ${JSON.stringify(dropText)} is not a valid regexp (${drop.error}); no frames dropped, as in pprof` };
  let keep: RegExp | undefined;
  if (keepText !== '') {
    const k = compileRe2(`^(${keepText})$`);
    if ('error' in k) return { profile: p, warning: `keep_frames ${JSON.stringify(keepText)} is not a valid regexp (${k.error}); no frames dropped, as in pprof` };
    keep = k.regexp;
  }
  return { profile: pruneFrames(p, drop.regexp, keep) };
}

/**
 * profile.Prune: in each location, the outermost line whose function's simplified name matches
 * `drop` and not `keep` is removed with every line inlined below it (all of the location when it
 * is the outermost line); then each sample loses, from the root down past its first location
 * that is left alone, the first location so marked and everything beneath it (a location that
 * kept some lines stays, cut short). Frames before the first untouched one stay, so a sample is
 * never emptied. Returns a new profile; `p` is not modified.
 */
export function pruneFrames(p: Profile, drop: RegExp, keep?: RegExp): Profile {
  const strings = p.stringTable.strings;
  const functions = IdMap.byId(p.function);
  const verdict = new Map<string, boolean>();
  const dropped = (name: string): boolean => {
    let v = verdict.get(name);
    if (v === undefined) {
      const simple = simplifyFunc(name);
      v = drop.test(simple) && !(keep && keep.test(simple));
      verdict.set(name, v);
    }
    return v;
  };

  const prune = new Set<number | bigint>();
  const pruneBeneath = new Set<number | bigint>();
  const locations = p.location.map((loc) => {
    let i = loc.line.length - 1;
    for (; i >= 0; i--) {
      const fn = functions.get(loc.line[i]!.functionId);
      const name = fn ? (strings[Number(fn.name)] ?? '') : '';
      if (name !== '' && dropped(name)) break;
    }
    if (i < 0) return loc;
    pruneBeneath.add(loc.id);
    if (i === loc.line.length - 1) {
      prune.add(loc.id);
      return loc;
    }
    return new Location({ id: loc.id, mappingId: loc.mappingId, address: loc.address, line: loc.line.slice(i + 1), isFolded: loc.isFolded });
  });
  if (pruneBeneath.size === 0) return p;

  const samples = p.sample.map((s) => {
    const ids = s.locationId;
    let foundUser = false;
    for (let i = ids.length - 1; i >= 0; i--) {
      const id = ids[i]!;
      const isPrune = prune.has(id);
      const isBeneath = pruneBeneath.has(id);
      if (!isPrune && !isBeneath) {
        foundUser = true;
        continue;
      }
      if (!foundUser) continue;
      const keepFrom = isPrune ? i + 1 : i;
      return new Sample({ locationId: ids.slice(keepFrom), value: s.value, label: s.label });
    }
    return s;
  });

  return new Profile({ ...profileFields(p), sample: samples, location: locations });
}
