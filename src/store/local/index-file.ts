/**
 * The local store's index file, index.jsonl: one JSON line per stored profile (IndexLine), appended
 * as profiles arrive and rewritten by a sweep. Created times keep their nanoseconds; a torn last
 * line (a process killed mid-append) is reported so that open can cut it off.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { STORE_PROFILE_TYPES, type ProfileMeta, type StoreLabel, type StoreProfileType } from '../store.js';
import type { IndexEntry } from './profile-index.js';

/** One line of index.jsonl. */
export interface IndexLine {
  id: string;
  service: string;
  type: StoreProfileType;
  labels: StoreLabel[];
  /** RFC 3339 with nanoseconds: the profile's own time. */
  createdAt: string;
  /** RFC 3339 with milliseconds: when the store received it. */
  uploadedAt: string;
  file: string;
  size: number;
}

/** Completes an entry with its metadata, shared by every answer (callers must not modify it). */
export function withMeta(e: Omit<IndexEntry, 'meta'>): IndexEntry {
  const labels = Object.freeze(e.labels);
  const createdAt = new Date(e.createdMs - mod(e.createdMs, 1000));
  const meta: ProfileMeta = Object.freeze({ id: e.id, service: e.service, type: e.type, labels, createdAt });
  // Spelled out (no spread) so every entry has one hidden class and find's loop stays fast.
  return {
    id: e.id,
    service: e.service,
    type: e.type,
    labels,
    createdMs: e.createdMs,
    createdSubMs: e.createdSubMs,
    uploadedMs: e.uploadedMs,
    file: e.file,
    size: e.size,
    meta,
  };
}

/** The entry as its index.jsonl line, newline included. */
export function serializeEntry(e: IndexEntry): string {
  const line: IndexLine = {
    id: e.id,
    service: e.service,
    type: e.type,
    labels: e.labels as StoreLabel[],
    createdAt: formatNanoTime(e.createdMs, e.createdSubMs),
    uploadedAt: new Date(e.uploadedMs).toISOString(),
    file: e.file,
    size: e.size,
  };
  return `${JSON.stringify(line)}\n`;
}

/** `2026-11-24T20:13:46.218047386Z`: exact, and readable in the file. */
function formatNanoTime(ms: number, subMs: number): string {
  const seconds = new Date(ms - mod(ms, 1000)).toISOString().slice(0, -5);
  return `${seconds}.${String(mod(ms, 1000) * 1_000_000 + subMs).padStart(9, '0')}Z`;
}

const NANO_TIME = /^(.+T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;

function parseEntry(text: string): IndexEntry | undefined {
  let line: IndexLine;
  try {
    line = JSON.parse(text) as IndexLine;
  } catch {
    return undefined;
  }
  if (typeof line !== 'object' || line === null) return undefined;
  const { id, service, type, labels, createdAt, uploadedAt, file, size } = line;
  const created = typeof createdAt === 'string' ? NANO_TIME.exec(createdAt) : null;
  const uploadedMs = typeof uploadedAt === 'string' ? Date.parse(uploadedAt) : NaN;
  if (
    typeof id !== 'string' ||
    id === '' ||
    typeof service !== 'string' ||
    !(STORE_PROFILE_TYPES as readonly string[]).includes(type) ||
    !Array.isArray(labels) ||
    !labels.every((l) => typeof l?.key === 'string' && typeof l.value === 'string') ||
    !created ||
    Number.isNaN(uploadedMs) ||
    typeof file !== 'string' ||
    path.isAbsolute(file) ||
    file.split(/[\\/]/).includes('..') ||
    typeof size !== 'number'
  ) {
    return undefined;
  }
  const secondsMs = Date.parse(`${created[1]}Z`);
  if (Number.isNaN(secondsMs)) return undefined;
  const ns = Number((created[2] ?? '').padEnd(9, '0'));
  const createdMs = secondsMs + Math.floor(ns / 1_000_000);
  const cleanLabels = labels.map((l) => ({ key: l.key, value: l.value }));
  return withMeta({ id, service, type, labels: cleanLabels, createdMs, createdSubMs: ns % 1_000_000, uploadedMs, file, size });
}

/**
 * Reads index.jsonl. Lines that do not parse are dropped and counted; bytes after the last
 * newline are a torn append (the process died mid-write) and are reported for truncation.
 */
export async function readIndexFile(file: string): Promise<{ entries: IndexEntry[]; dropped: number; goodBytes: number; tornBytes: number }> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], dropped: 0, goodBytes: 0, tornBytes: 0 };
    throw err;
  }
  const goodBytes = buf.lastIndexOf(0x0a) + 1;
  const tornBytes = buf.length - goodBytes;
  let dropped = tornBytes > 0 ? 1 : 0;
  const entries: IndexEntry[] = [];
  for (const text of buf.toString('utf8', 0, goodBytes).split('\n')) {
    if (text === '') continue;
    const e = parseEntry(text);
    if (e) entries.push(e);
    else dropped++;
  }
  return { entries, dropped, goodBytes, tornBytes };
}

function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}
