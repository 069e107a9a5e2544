/**
 * Tracked objects: `GET /api/v1/search`, the review queue and marking objects reviewed.
 * Types come straight from management's OpenAPI schema (generated/management.d.ts).
 */

import { api } from '../api/client';
import type { ManagementSchemas } from '../api/schema';
import type { Page } from '../api/types';

export type TrackedObject = ManagementSchemas['ObjectOut'];
export type ObjectDetail = ManagementSchemas['ObjectDetail'];
export type ReviewSummary = ManagementSchemas['ReviewSummary'];
export type Box = { x: number; y: number; w: number; h: number };

const V1 = '/api/v1';

export const COLOURS = ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'brown',
  'white', 'grey', 'black'] as const;
export const LABELS = ['person', 'vehicle', 'face'] as const;

export interface SearchQuery {
  labels?: string[];
  camera_ids?: number[];
  zone?: string | null;
  line?: string | null;
  start?: string | null;
  end?: string | null;
  colors?: string[];
  min_dwell_s?: number | null;
  min_score?: number | null;
  reviewed?: boolean | null;
  sort?: 'time' | 'score';
  limit: number;
  offset: number;
}

/** The query string of a search; lists repeat their parameter (`label=a&label=b`). */
export function searchParams(q: SearchQuery): string {
  const p = new URLSearchParams();
  for (const l of q.labels ?? []) p.append('label', l);
  for (const c of q.camera_ids ?? []) p.append('camera_id', String(c));
  for (const c of q.colors ?? []) p.append('color', c);
  const single: Record<string, string | number | boolean | null | undefined> = {
    zone: q.zone, line: q.line, start: q.start, end: q.end, min_dwell_s: q.min_dwell_s,
    min_score: q.min_score, reviewed: q.reviewed, sort: q.sort, limit: q.limit,
    offset: q.offset,
  };
  for (const [k, v] of Object.entries(single)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  return p.toString();
}

export const objectsApi = {
  search: (q: SearchQuery, signal?: AbortSignal) =>
    api.get<Page<TrackedObject>>(`${V1}/search?${searchParams(q)}`, {}, signal),
  queue: (q: { camera_id: number | null; limit: number; offset: number },
    signal?: AbortSignal) =>
    api.get<Page<TrackedObject>>(`${V1}/review`, { ...q, reviewed: false }, signal),
  summary: (signal?: AbortSignal) =>
    api.get<ReviewSummary[]>(`${V1}/review/summary`, {}, signal),
  get: (id: number, signal?: AbortSignal) =>
    api.get<ObjectDetail>(`${V1}/objects/${id}`, {}, signal),
  review: (id: number, reviewed = true) =>
    api.post<TrackedObject>(`${V1}/objects/${id}/review`, { reviewed }),
  reviewMany: (ids: number[], reviewed = true) =>
    api.post<{ count: number }>(`${V1}/objects/review`, { ids, reviewed }),
};

/** The object's box as drawn: the snapshot's box, else none. */
export function boxOf(o: Pick<TrackedObject, 'box'>): Box | null {
  const b = o.box as Partial<Box>;
  return typeof b.x === 'number' && typeof b.y === 'number' && typeof b.w === 'number'
    && typeof b.h === 'number' ? { x: b.x, y: b.y, w: b.w, h: b.h } : null;
}

/**
 * Where the box is `t` seconds after the object was first seen: the path's box centres
 * interpolated, with the snapshot box's size (the path has centres only). Before the path
 * starts or after it ends, its first or last point; without a path, the snapshot box.
 */
export function boxAt(box: Box, path: number[][], t: number): Box {
  const points = path.filter((p) => p.length === 3) as [number, number, number][];
  if (points.length === 0) return box;
  let cx: number;
  let cy: number;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (t <= first[0]) [, cx, cy] = first;
  else if (t >= last[0]) [, cx, cy] = last;
  else {
    const i = points.findIndex((p) => p[0] > t);
    const a = points[i - 1]!;
    const b = points[i]!;
    const f = b[0] === a[0] ? 0 : (t - a[0]) / (b[0] - a[0]);
    cx = a[1] + (b[1] - a[1]) * f;
    cy = a[2] + (b[2] - a[2]) * f;
  }
  const clamp = (v: number, size: number) => Math.min(Math.max(v, 0), 1 - size);
  return { x: clamp(cx - box.w / 2, box.w), y: clamp(cy - box.h / 2, box.h), w: box.w, h: box.h };
}

/** The playback link of an object: its camera, two seconds before it was first seen. */
export function playbackLink(o: Pick<TrackedObject, 'camera_id' | 'first_seen'>): string {
  const t = new Date(Date.parse(o.first_seen) - 2000).toISOString();
  return `/playback?camera=${o.camera_id}&t=${encodeURIComponent(t)}`;
}

/** Query keys of this page family: invalidating `objects` reloads every view of them. */
export const objectKeys = {
  all: ['objects'] as const,
  search: (q: SearchQuery) => ['objects', 'search', q] as const,
  queue: (q: object) => ['objects', 'queue', q] as const,
  summary: ['objects', 'summary'] as const,
  detail: (id: number) => ['objects', 'detail', id] as const,
};
