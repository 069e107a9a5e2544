/**
 * The live grid as pure state: grid size, the camera in each cell, the saved layout it came
 * from and whether it changed since, the enlarged and the selected cell.
 */

import type { Tour } from '../api/types';

export type GridSize = 1 | 4 | 9 | 16;
export const GRID_SIZES: readonly GridSize[] = [1, 4, 9, 16];

export interface GridState {
  grid: GridSize;
  cells: (number | null)[];
  /** Camera tours, at most one per cell. */
  tours: Tour[];
  layoutId: number | null;
  layoutName: string | null;
  dirty: boolean;
  enlarged: number | null;
  selected: number | null;
}

export interface SavedLayout {
  id: number;
  name: string;
  grid: number;
  cells: (number | null)[];
  tours?: Tour[];
}

export type GridAction =
  | { type: 'setGrid'; grid: GridSize }
  | { type: 'assign'; cell: number; cameraId: number }
  | { type: 'clear'; cell: number }
  | { type: 'move'; from: number; to: number }
  | { type: 'place'; cameraId: number }
  | { type: 'focus'; cameraId: number }
  | { type: 'load'; layout: SavedLayout }
  | { type: 'saved'; layout: SavedLayout }
  | { type: 'detach' }
  | { type: 'enlarge'; cell: number | null }
  | { type: 'select'; cell: number | null }
  | { type: 'prune'; visible: ReadonlySet<number> }
  | { type: 'defaults'; cameras: readonly number[] }
  | { type: 'tour'; tour: Tour }
  | { type: 'untour'; cell: number };

export const MIN_DWELL_S = 3;
export const MAX_DWELL_S = 3600;

export function isGridSize(n: number): n is GridSize {
  return (GRID_SIZES as readonly number[]).includes(n);
}

export function emptyGrid(grid: GridSize = 4): GridState {
  return { grid, cells: Array<number | null>(grid).fill(null), tours: [], layoutId: null,
    layoutName: null, dirty: false, enlarged: null, selected: null };
}

/** Cells resized to `size`: cameras beyond the new size move into free cells if any. */
export function resizeCells(cells: (number | null)[], size: number): (number | null)[] {
  const out = cells.slice(0, size);
  while (out.length < size) out.push(null);
  const overflow = cells.slice(size).filter((c): c is number => c !== null);
  for (const cam of overflow) {
    const free = out.indexOf(null);
    if (free === -1) break;
    out[free] = cam;
  }
  return out;
}

/** Nothing chosen yet: no camera in any cell, no layout, no change by the user. */
export function isPristine(s: GridState): boolean {
  return s.layoutId === null && !s.dirty && s.cells.every((c) => c === null);
}

/** The first-login view: the first 1/4/9/16 cameras in the smallest grid that holds them. */
export function defaultGrid(cameras: readonly number[]): GridState {
  if (cameras.length === 0) return emptyGrid();
  const grid = gridFor(cameras.length);
  return { ...emptyGrid(grid), cells: resizeCells(cameras.slice(0, grid), grid) };
}

/** The smallest grid that holds `count` cameras. */
export function gridFor(count: number): GridSize {
  return GRID_SIZES.find((g) => g >= count) ?? 16;
}

/** Tours that are well formed and fit a grid of `size` cells, one per cell. */
export function cleanTours(tours: unknown, size: number): Tour[] {
  if (!Array.isArray(tours)) return [];
  const out: Tour[] = [];
  for (const t of tours as Partial<Tour>[]) {
    if (!t || typeof t.cell !== 'number' || !Number.isInteger(t.cell) || t.cell < 0
      || t.cell >= size || out.some((o) => o.cell === t.cell)) continue;
    const cameras = Array.isArray(t.cameras)
      ? [...new Set(t.cameras.filter((c): c is number => Number.isInteger(c) && c > 0))] : [];
    const dwell = typeof t.dwell_s === 'number' ? Math.round(t.dwell_s) : 10;
    if (cameras.length < 1) continue;
    out.push({ cell: t.cell, cameras,
      dwell_s: Math.min(MAX_DWELL_S, Math.max(MIN_DWELL_S, dwell)) });
  }
  return out;
}

export function tourAt(s: GridState, cell: number): Tour | undefined {
  return s.tours.find((t) => t.cell === cell);
}

const withoutTour = (tours: Tour[], cell: number) => tours.filter((t) => t.cell !== cell);

function inRange(s: GridState, cell: number): boolean {
  return Number.isInteger(cell) && cell >= 0 && cell < s.grid;
}

function changed(s: GridState, cells: (number | null)[], extra: Partial<GridState> = {}): GridState {
  return { ...s, cells, dirty: true, ...extra };
}

export function gridReducer(s: GridState, a: GridAction): GridState {
  switch (a.type) {
    case 'setGrid': {
      if (a.grid === s.grid) return s;
      const keep = (i: number | null) => (i !== null && i < a.grid ? i : null);
      return changed(s, resizeCells(s.cells, a.grid),
        { grid: a.grid, enlarged: keep(s.enlarged), selected: keep(s.selected),
          tours: s.tours.filter((t) => t.cell < a.grid) });
    }
    case 'assign': {
      if (!inRange(s, a.cell)) return s;
      const cells = s.cells.map((c) => (c === a.cameraId ? null : c));
      // A camera shows once: assigning it elsewhere moves it (the old cell gets the
      // camera that was in the target, so drag and drop swaps).
      const from = s.cells.indexOf(a.cameraId);
      if (from !== -1) cells[from] = s.cells[a.cell] ?? null;
      cells[a.cell] = a.cameraId;
      // A camera put into a touring cell ends that tour.
      return changed(s, cells, { selected: a.cell, tours: withoutTour(s.tours, a.cell) });
    }
    case 'clear': {
      if (!inRange(s, a.cell) || (s.cells[a.cell] === null && !tourAt(s, a.cell))) return s;
      const cells = [...s.cells];
      cells[a.cell] = null;
      return changed(s, cells, { enlarged: s.enlarged === a.cell ? null : s.enlarged,
        tours: withoutTour(s.tours, a.cell) });
    }
    case 'move': {
      if (!inRange(s, a.from) || !inRange(s, a.to) || a.from === a.to) return s;
      const cells = [...s.cells];
      [cells[a.from], cells[a.to]] = [cells[a.to] ?? null, cells[a.from] ?? null];
      const swap = (c: number) => (c === a.from ? a.to : c === a.to ? a.from : c);
      return changed(s, cells, { selected: a.to,
        tours: s.tours.map((t) => ({ ...t, cell: swap(t.cell) })) });
    }
    case 'place': {
      const at = s.cells.indexOf(a.cameraId);
      if (at !== -1) return { ...s, selected: at };
      const free = s.cells.indexOf(null);
      if (free !== -1) return gridReducer(s, { type: 'assign', cell: free, cameraId: a.cameraId });
      if (s.grid < 16) {
        const grown = gridReducer(s, { type: 'setGrid', grid: gridFor(s.grid + 1) });
        return gridReducer(grown, { type: 'place', cameraId: a.cameraId });
      }
      const target = s.selected ?? s.grid - 1;
      return gridReducer(s, { type: 'assign', cell: target, cameraId: a.cameraId });
    }
    case 'focus': {
      const placed = gridReducer(s, { type: 'place', cameraId: a.cameraId });
      const at = placed.cells.indexOf(a.cameraId);
      return at === -1 ? placed : { ...placed, enlarged: at, selected: at };
    }
    case 'load': {
      const grid = isGridSize(a.layout.grid) ? a.layout.grid : gridFor(a.layout.cells.length);
      return { grid, cells: resizeCells(a.layout.cells, grid),
        tours: cleanTours(a.layout.tours, grid), layoutId: a.layout.id,
        layoutName: a.layout.name, dirty: false, enlarged: null, selected: null };
    }
    case 'saved':
      return { ...s, layoutId: a.layout.id, layoutName: a.layout.name, dirty: false };
    case 'detach':
      return { ...s, layoutId: null, layoutName: null, dirty: true };
    case 'enlarge':
      if (a.cell !== null && (!inRange(s, a.cell) || s.cells[a.cell] === null)) return s;
      return { ...s, enlarged: a.cell, selected: a.cell ?? s.selected };
    case 'select':
      if (a.cell !== null && !inRange(s, a.cell)) return s;
      return { ...s, selected: a.cell };
    case 'prune': {
      if (s.cells.every((c) => c === null || a.visible.has(c))) return s;
      return { ...s, cells: s.cells.map((c) => (c !== null && a.visible.has(c) ? c : null)) };
    }
    case 'tour': {
      if (!inRange(s, a.tour.cell)) return s;
      const [tour] = cleanTours([a.tour], s.grid);
      if (!tour) return s;
      const cells = [...s.cells];
      cells[tour.cell] = tour.cameras[0] ?? null;
      return changed(s, cells, { tours: [...withoutTour(s.tours, tour.cell), tour] });
    }
    case 'untour':
      if (!tourAt(s, a.cell)) return s;
      return changed(s, s.cells, { tours: withoutTour(s.tours, a.cell) });
    case 'defaults':
      // Only an untouched view is filled; it stays "unsaved" and not dirty.
      return isPristine(s) && a.cameras.length > 0 ? defaultGrid(a.cameras) : s;
    default:
      return s;
  }
}

/** Which stream a tile asks for: the sub-stream in small tiles, main when large. */
export function streamFor(s: GridState, cell: number, hasSub: boolean): 'main' | 'sub' {
  if (!hasSub) return 'main';
  return s.grid === 1 || s.enlarged === cell ? 'main' : 'sub';
}

/** The body to save the grid as a layout. */
export function layoutBody(s: GridState):
  { grid: GridSize; cells: (number | null)[]; tours: Tour[] } {
  // The server wants two or more cameras per tour; one left (others hidden) is a plain cell.
  return { grid: s.grid, cells: [...s.cells],
    tours: s.tours.filter((t) => t.cameras.length >= 2).map((t) => ({ ...t })) };
}

const LAST_KEY = 'argus.live.last';

/** The grid of the last visit (not a secret; survives reloads). */
export function restoreGrid(): GridState {
  try {
    const raw = localStorage.getItem(LAST_KEY);
    if (raw) {
      const v = JSON.parse(raw) as Partial<GridState>;
      if (typeof v.grid === 'number' && isGridSize(v.grid) && Array.isArray(v.cells)) {
        const cells = v.cells.map((c) => (typeof c === 'number' ? c : null));
        return { ...emptyGrid(v.grid), cells: resizeCells(cells, v.grid),
          tours: cleanTours(v.tours, v.grid),
          layoutId: typeof v.layoutId === 'number' ? v.layoutId : null,
          layoutName: typeof v.layoutName === 'string' ? v.layoutName : null,
          dirty: Boolean(v.dirty) };
      }
    }
  } catch {
    // Corrupt or unavailable storage: start empty.
  }
  return emptyGrid();
}

export function persistGrid(s: GridState): void {
  try {
    localStorage.setItem(LAST_KEY, JSON.stringify({ grid: s.grid, cells: s.cells, tours: s.tours,
      layoutId: s.layoutId, layoutName: s.layoutName, dirty: s.dirty }));
  } catch {
    // Not persisted.
  }
}
