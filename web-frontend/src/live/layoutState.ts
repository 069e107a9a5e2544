/**
 * The live grid as pure state: grid size, the camera in each cell, the saved layout it came
 * from and whether it changed since, the enlarged and the selected cell.
 */

export type GridSize = 1 | 4 | 9 | 16;
export const GRID_SIZES: readonly GridSize[] = [1, 4, 9, 16];

export interface GridState {
  grid: GridSize;
  cells: (number | null)[];
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
  | { type: 'prune'; visible: ReadonlySet<number> };

export function isGridSize(n: number): n is GridSize {
  return (GRID_SIZES as readonly number[]).includes(n);
}

export function emptyGrid(grid: GridSize = 4): GridState {
  return { grid, cells: Array<number | null>(grid).fill(null), layoutId: null,
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

/** The smallest grid that holds `count` cameras. */
export function gridFor(count: number): GridSize {
  return GRID_SIZES.find((g) => g >= count) ?? 16;
}

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
        { grid: a.grid, enlarged: keep(s.enlarged), selected: keep(s.selected) });
    }
    case 'assign': {
      if (!inRange(s, a.cell)) return s;
      const cells = s.cells.map((c) => (c === a.cameraId ? null : c));
      // A camera shows once: assigning it elsewhere moves it (the old cell gets the
      // camera that was in the target, so drag and drop swaps).
      const from = s.cells.indexOf(a.cameraId);
      if (from !== -1) cells[from] = s.cells[a.cell] ?? null;
      cells[a.cell] = a.cameraId;
      return changed(s, cells, { selected: a.cell });
    }
    case 'clear': {
      if (!inRange(s, a.cell) || s.cells[a.cell] === null) return s;
      const cells = [...s.cells];
      cells[a.cell] = null;
      return changed(s, cells, { enlarged: s.enlarged === a.cell ? null : s.enlarged });
    }
    case 'move': {
      if (!inRange(s, a.from) || !inRange(s, a.to) || a.from === a.to) return s;
      const cells = [...s.cells];
      [cells[a.from], cells[a.to]] = [cells[a.to] ?? null, cells[a.from] ?? null];
      return changed(s, cells, { selected: a.to });
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
      return { grid, cells: resizeCells(a.layout.cells, grid), layoutId: a.layout.id,
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
export function layoutBody(s: GridState): { grid: GridSize; cells: (number | null)[] } {
  return { grid: s.grid, cells: [...s.cells] };
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
    localStorage.setItem(LAST_KEY, JSON.stringify({ grid: s.grid, cells: s.cells,
      layoutId: s.layoutId, layoutName: s.layoutName, dirty: s.dirty }));
  } catch {
    // Not persisted.
  }
}
