/** Motion zone geometry in normalized [0, 1] picture coordinates (what the API stores). */

import type { Point, Polygon } from '../api/types';

/** A click at (x, y) inside a box of `w`×`h` pixels, as a normalized point (4 decimals). */
export function normalize(x: number, y: number, w: number, h: number): Point {
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  const round = (v: number) => Math.round(v * 10_000) / 10_000;
  return [round(clamp(x / w)), round(clamp(y / h))];
}

/** SVG `points` attribute of a polygon drawn in a 0..1 viewBox. */
export function svgPoints(p: Polygon): string {
  return p.map(([x, y]) => `${x},${y}`).join(' ');
}

export const MIN_POINTS = 3;
export const MAX_POINTS = 64;
export const MAX_POLYGONS = 16;
