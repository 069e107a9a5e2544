import { describe, expect, it } from 'vitest';
import {
  cleanTours, defaultGrid, emptyGrid, gridReducer, isPristine, layoutBody,
} from '../src/live/layoutState';

const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('first-login view', () => {
  it('shows the first 1/4/9/16 cameras by count', () => {
    expect(defaultGrid(ids(1))).toMatchObject({ grid: 1, cells: [1] });
    expect(defaultGrid(ids(2))).toMatchObject({ grid: 4, cells: [1, 2, null, null] });
    expect(defaultGrid(ids(4))).toMatchObject({ grid: 4, cells: [1, 2, 3, 4] });
    expect(defaultGrid(ids(5)).grid).toBe(9);
    expect(defaultGrid(ids(5)).cells).toEqual([1, 2, 3, 4, 5, null, null, null, null]);
    expect(defaultGrid(ids(9)).cells).toEqual(ids(9));
    expect(defaultGrid(ids(10)).grid).toBe(16);
    expect(defaultGrid(ids(40)).cells).toEqual(ids(16));
  });

  it('stays unsaved and clean; no cameras leaves the empty grid', () => {
    const s = defaultGrid(ids(3));
    expect(s).toMatchObject({ layoutId: null, layoutName: null, dirty: false });
    expect(defaultGrid([])).toEqual(emptyGrid());
  });

  it('fills only a view nobody has touched', () => {
    const fresh = gridReducer(emptyGrid(), { type: 'defaults', cameras: ids(6) });
    expect(fresh.grid).toBe(9);
    expect(fresh.cells.slice(0, 6)).toEqual(ids(6));
    // Once filled it is no longer pristine: a later camera list does not reshuffle it.
    expect(isPristine(fresh)).toBe(false);
    expect(gridReducer(fresh, { type: 'defaults', cameras: [9, 8] })).toBe(fresh);
    // A user who emptied the grid on purpose keeps it empty.
    let cleared = gridReducer(defaultGrid([7]), { type: 'clear', cell: 0 });
    cleared = gridReducer(cleared, { type: 'defaults', cameras: [7] });
    expect(cleared.cells).toEqual([null]);
    // A loaded saved layout is kept as it is, even an empty one.
    const loaded = gridReducer(emptyGrid(), { type: 'load',
      layout: { id: 3, name: 'Night', grid: 4, cells: [null, null, null, null] } });
    expect(gridReducer(loaded, { type: 'defaults', cameras: ids(2) })).toBe(loaded);
  });
});

describe('camera tours in the grid state', () => {
  const base = () => defaultGrid([1, 2, 3, 4]);

  it('sets a tour on a cell (its first camera shown) and saves it with the layout', () => {
    const s = gridReducer(base(), { type: 'tour', tour: { cell: 1, cameras: [3, 5, 3], dwell_s: 1 } });
    expect(s.tours).toEqual([{ cell: 1, cameras: [3, 5], dwell_s: 3 }]);  // once each, >= 3 s
    expect(s.cells[1]).toBe(3);
    expect(s.dirty).toBe(true);
    expect(layoutBody(s).tours).toEqual([{ cell: 1, cameras: [3, 5], dwell_s: 3 }]);
  });

  it('follows the cell on swap, ends on clear, assign or a smaller grid', () => {
    let s = gridReducer(base(), { type: 'tour', tour: { cell: 3, cameras: [7, 8], dwell_s: 5 } });
    s = gridReducer(s, { type: 'move', from: 3, to: 0 });
    expect(s.tours.map((t) => t.cell)).toEqual([0]);
    expect(gridReducer(s, { type: 'clear', cell: 0 }).tours).toEqual([]);
    expect(gridReducer(s, { type: 'assign', cell: 0, cameraId: 2 }).tours).toEqual([]);
    expect(gridReducer(s, { type: 'untour', cell: 0 }).tours).toEqual([]);
    const moved = gridReducer(s, { type: 'move', from: 0, to: 3 });
    expect(gridReducer(moved, { type: 'setGrid', grid: 1 }).tours).toEqual([]);
  });

  it('loads tours from a saved layout, dropping malformed ones', () => {
    const s = gridReducer(emptyGrid(), { type: 'load', layout: { id: 1, name: 'T', grid: 1,
      cells: [4], tours: [{ cell: 0, cameras: [4, 5], dwell_s: 6 },
        { cell: 2, cameras: [1, 2], dwell_s: 6 }] } });
    expect(s.tours).toEqual([{ cell: 0, cameras: [4, 5], dwell_s: 6 }]);
    expect(cleanTours('x', 4)).toEqual([]);
    expect(cleanTours([{ cell: 0, cameras: [] }], 4)).toEqual([]);
  });
});
