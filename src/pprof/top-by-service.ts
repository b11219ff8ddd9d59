import type { Profile } from 'pprof-format';
import { buildGraph, functionNodes } from './graph.js';
import { addInt64, type Int64 } from './int64.js';
import { ProfileMerger } from './merge.js';
import { removeFramesMatching } from './prune.js';
import { resolveSampleIndex, sampleTypesOf } from './sample-type.js';
import { computeTopWithKeys, type TopOptions, type TopReport, type TopRow } from './top.js';

/** A row of the merged top, with the function's flat value in each service. */
export interface ServiceTopRow extends TopRow {
  /** Every service added, in the order added, to its flat value for this function (0 when none). */
  readonly services: Readonly<Record<string, Int64>>;
}

/** computeTop over the merge of several services' profiles, with a per-service flat column. */
export interface ServiceTopReport extends TopReport {
  /** The services, in the order they were added. */
  readonly services: readonly string[];
  readonly rows: ServiceTopRow[];
}

/**
 * Builds the top functions of many services' profiles one service at a time, so that only the
 * merge and one small flat table per service are kept, never every service's profile.
 *
 * The numbers are those of `go tool pprof -top` on the merge of all the profiles (see
 * computeTop); a service's flat value for a function (a pprof node: several rows can share a
 * printable name) is that node's flat in the service's own profile, pruned with the merge's
 * drop_frames / keep_frames (the first profile's, as in a merge), so the services' values of a
 * row add up to its flat (flat depends only on each sample's leaf frame, which merging keeps).
 */
export class TopByService {
  private readonly merger = new ProfileMerger();
  /** Per service, its flat per node key (fmt.Sprint of pprof's NodeInfo). */
  private readonly flats = new Map<string, Map<string, Int64>>();
  /** The sample type, by name, fixed by the first profile so every service uses the same one. */
  private typeName: string | undefined;
  private dropFrames = '';
  private keepFrames = '';

  /** `sampleType` is a name or index as for computeTop; default: the first profile's default. */
  constructor(private readonly sampleType?: string) {}

  /** How many profiles were added. */
  get count(): number {
    return this.merger.count;
  }

  /**
   * Adds one service's profile (typically the store's merge of its window). Adding a service
   * again adds to its values. Throws an Error for a sample type the profile does not have, and
   * IncompatibleProfilesError when its sample types differ from the first profile's.
   */
  add(service: string, profile: Profile): void {
    if (this.typeName === undefined) {
      this.typeName = sampleTypesOf(profile)[resolveSampleIndex(profile, this.sampleType)]!.type;
      const strings = profile.stringTable.strings;
      this.dropFrames = strings[Number(profile.dropFrames)] ?? '';
      this.keepFrames = strings[Number(profile.keepFrames)] ?? '';
    }
    this.merger.add(profile, `the profile of service "${service}"`);
    let flats = this.flats.get(service);
    if (!flats) {
      flats = new Map();
      this.flats.set(service, flats);
    }
    const pruned = removeFramesMatching(profile, this.dropFrames, this.keepFrames).profile;
    const fn = functionNodes(pruned);
    for (const n of buildGraph(pruned, fn, resolveSampleIndex(pruned, this.typeName))) {
      if (n.flat !== 0) flats.set(fn.keys[n.node]!, addInt64(flats.get(fn.keys[n.node]!) ?? 0, n.flat));
    }
  }

  /** The merged top with per-service flats, its rows selected with `opts`. Throws when nothing was added. */
  result(opts: TopOptions = {}): ServiceTopReport {
    return this.resultWithKeys(opts).report;
  }

  /** result(), and per row the node's identity (fmt.Sprint of pprof's NodeInfo: unique where function names are not). */
  resultWithKeys(opts: TopOptions = {}): { report: ServiceTopReport; keys: string[] } {
    if (this.typeName === undefined) throw new Error('no profiles to compute a top from');
    const { report, keys } = computeTopWithKeys(this.merger.result(), this.typeName, opts);
    const services = [...this.flats.keys()];
    // fromEntries defines own properties, so even a service named "__proto__" is a plain key.
    const rows = report.rows.map((row, i) => ({
      ...row,
      services: Object.fromEntries(services.map((s) => [s, this.flats.get(s)!.get(keys[i]!) ?? 0])),
    }));
    return { report: { ...report, services, rows }, keys };
  }
}

/** TopByService over a list of `[service, profile]` pairs; see TopByService for the contract. */
export function computeTopByService(entries: Iterable<readonly [service: string, profile: Profile]>, sampleType?: string, opts: TopOptions = {}): ServiceTopReport {
  const top = new TopByService(sampleType);
  for (const [service, profile] of entries) top.add(service, profile);
  return top.result(opts);
}
