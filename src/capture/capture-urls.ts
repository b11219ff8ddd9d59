import type { StoreOptions } from '../store/open-store.js';
import type { CaptureSummary } from '../report/capture-report.js';
import { openCaptureSink } from './capture-sink.js';
import { captureTargets, typesFor, type CaptureOptions, type CaptureOutcome } from './engine.js';
import { urlTargets, UrlTunnel, type PprofUrl } from './url-targets.js';

/** What `capture --url` captures, and where the profiles go. */
export interface UrlCaptureRequest {
  readonly urls: readonly PprofUrl[];
  /** --service; default: each URL's host:port as a safe segment. */
  readonly service?: string;
  readonly engine: CaptureOptions;
  /** Where profiles are saved when there is no profefe URL (then indexed in the local store). */
  readonly outputDir: string;
  readonly store: StoreOptions;
}

/** Receives progress while capturing: the same shape as a pod capture's (a URL target's key is `/host:port`). */
export interface UrlCaptureProgress {
  start(total: { pods: number; profiles: number; perPod: ReadonlyMap<string, number> }): void | Promise<void>;
  update(outcome: CaptureOutcome): void;
  stop(): void;
}

/**
 * Captures Go processes serving net/http/pprof at the given URLs, with no cluster: the same
 * engine, limits and sinks as a pod capture. With a profefe URL in `store` the profiles are
 * uploaded (spooled when the store cannot take them); without one they are saved under
 * `outputDir` and then indexed in the local store. Failures are outcomes, not exceptions (an
 * abort throws the signal's reason); the summary has no skipped pods.
 */
export async function captureUrls(req: UrlCaptureRequest, deps: { signal?: AbortSignal; progress?: UrlCaptureProgress }): Promise<CaptureSummary> {
  const targets = urlTargets(req.urls, req.service);
  const warnings: string[] = [];
  const out = await openCaptureSink(req.store, req.outputDir, []);
  const started = Date.now();
  try {
    const perPod = new Map(targets.map((t) => [`${t.namespace}/${t.pod}`, typesFor(t, req.engine).length]));
    await deps.progress?.start({ pods: targets.length, profiles: [...perPod.values()].reduce((a, b) => a + b, 0), perPod });
    const outcomes = await captureTargets(targets, req.engine, { tunnel: new UrlTunnel(req.urls), sink: out.sink, signal: deps.signal, onOutcome: (o) => deps.progress?.update(o) });
    deps.progress?.stop();
    warnings.push(...(await out.finish()));
    return { outcomes, skipped: [], seconds: req.engine.seconds, wallMs: Date.now() - started, warnings, notUploaded: out.notUploaded() };
  } finally {
    deps.progress?.stop();
    await out.close();
  }
}
