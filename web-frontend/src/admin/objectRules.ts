/**
 * Object zones and lines of a camera, as the management API stores them (`analysis.objects`):
 * defaults, the draft being drawn, and the same checks the API makes, so that the form can say
 * what is wrong before saving (the API's own 4xx message is still shown if it refuses).
 */

import type { LineDirection, ObjectLine, ObjectSettings, ObjectZone, Point } from '../api/types';
import { MAX_POINTS, MIN_POINTS } from './zones';

export const RULE_NAME = /^[A-Za-z0-9 _.-]{1,64}$/;
export const LABEL = RULE_NAME;
export const MAX_RULES = 16;
export const MAX_LABELS = 32;
export const MAX_DWELL_S = 86_400;
export const MAX_COUNT = 1000;
export const DETECTORS = ['auto', 'opencv-hog', 'onnx', 'opencv-face'] as const;
export const DIRECTIONS: LineDirection[] = ['any', 'left_to_right', 'right_to_left'];

/** What the API answers for a camera whose objects were never set. */
export function defaultObjects(): ObjectSettings {
  return { enabled: false, detector: 'auto', labels: [], min_score: 0.5, zones: [], lines: [],
    retention_days: {} };
}

export type DrawKind = 'zone' | 'line';

/** The form of the zone or line being drawn. Numbers stay text until checked. */
export interface Draft {
  kind: DrawKind;
  points: Point[];
  name: string;
  labels: string;
  dwell: string;
  count: string;
  direction: LineDirection;
}

export function emptyDraft(kind: DrawKind): Draft {
  return { kind, points: [], name: '', labels: '', dwell: '', count: '', direction: 'any' };
}

/** A click adds a point: up to MAX_POINTS for a zone; a line's third click starts it anew. */
export function addPoint(draft: Draft, p: Point): Draft {
  if (draft.kind === 'line') return { ...draft, points: draft.points.length >= 2 ? [p] : [...draft.points, p] };
  if (draft.points.length >= MAX_POINTS) return draft;
  return { ...draft, points: [...draft.points, p] };
}

/** "person, car" → ["person", "car"]; null when one of them is not a valid label. */
export function parseLabels(text: string): string[] | null {
  const labels = [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
  if (labels.length > MAX_LABELS || labels.some((l) => !LABEL.test(l))) return null;
  return labels;
}

/** An optional number in (min, max]; undefined when the text is not one. */
function optionalNumber(text: string, opts: { integer: boolean; min: number; max: number;
  exclusiveMin: boolean }): number | null | undefined {
  const s = text.trim();
  if (!s) return null;
  const n = Number(s);
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n))) return undefined;
  if (opts.exclusiveMin ? n <= opts.min : n < opts.min) return undefined;
  return n > opts.max ? undefined : n;
}

export type Checked =
  | { ok: true; zone: ObjectZone }
  | { ok: true; line: ObjectLine }
  | { ok: false; problem: string };

/**
 * The draft as a zone or line of `settings`, or the i18n key (under `objectRules.`) of what is
 * wrong with it.
 */
export function checkDraft(draft: Draft, settings: ObjectSettings): Checked {
  const bad = (problem: string): Checked => ({ ok: false, problem });
  const name = draft.name.trim();
  if (!RULE_NAME.test(name)) return bad('errName');
  if ([...settings.zones, ...settings.lines].some((r) => r.name === name)) return bad('errDuplicate');
  const labels = parseLabels(draft.labels);
  if (labels === null) return bad('errLabels');
  if (draft.kind === 'line') {
    if (settings.lines.length >= MAX_RULES) return bad('errTooMany');
    const [a, b] = draft.points;
    if (!a || !b) return bad('errLinePoints');
    if (a[0] === b[0] && a[1] === b[1]) return bad('errLineEnds');
    return { ok: true, line: { name, a, b, direction: draft.direction, labels } };
  }
  if (settings.zones.length >= MAX_RULES) return bad('errTooMany');
  if (draft.points.length < MIN_POINTS) return bad('errZonePoints');
  const dwell = optionalNumber(draft.dwell, { integer: false, min: 0, max: MAX_DWELL_S, exclusiveMin: true });
  if (dwell === undefined) return bad('errDwell');
  const count = optionalNumber(draft.count, { integer: true, min: 0, max: MAX_COUNT, exclusiveMin: false });
  if (count === undefined) return bad('errCount');
  return { ok: true, zone: { name, polygon: draft.points, labels, dwell_s: dwell, max_count: count } };
}

/** `settings` with the checked draft added. */
export function withRule(settings: ObjectSettings, checked: Checked): ObjectSettings {
  if (!checked.ok) return settings;
  if ('zone' in checked) return { ...settings, zones: [...settings.zones, checked.zone] };
  return { ...settings, lines: [...settings.lines, checked.line] };
}

/** Midpoint of a line and a short arrow normal to it pointing to the side an object crosses to. */
export function crossingArrow(line: Pick<ObjectLine, 'a' | 'b' | 'direction'>): [Point, Point] | null {
  if (line.direction === 'any') return null;
  const mid: Point = [(line.a[0] + line.b[0]) / 2, (line.a[1] + line.b[1]) / 2];
  const dx = line.b[0] - line.a[0];
  const dy = line.b[1] - line.a[1];
  const len = Math.hypot(dx, dy) || 1;
  // Picture y grows downwards, so (−dy, dx) points to the right of a -> b (the analyser's
  // positive side, rules.crossing); left_to_right ends there.
  const sign = line.direction === 'left_to_right' ? 1 : -1;
  const k = 0.06 * sign;
  return [mid, [mid[0] - (dy / len) * k, mid[1] + (dx / len) * k]];
}
