import { describe, expect, it } from 'vitest';
import {
  emptyGrid, gridFor, gridReducer, layoutBody, resizeCells, streamFor, type GridState,
} from '../src/live/layoutState';

function grid(cells: (number | null)[], extra: Partial<GridState> = {}): GridState {
  const size = cells.length as 1 | 4 | 9 | 16;
  return { ...emptyGrid(size), cells, ...extra };
}

describe('grid size', () => {
  it('keeps cameras when growing', () => {
    const s = gridReducer(grid([1, 2, null, 3]), { type: 'setGrid', grid: 9 });
    expect(s.grid).toBe(9);
    expect(s.cells).toEqual([1, 2, null, 3, null, null, null, null, null]);
    expect(s.dirty).toBe(true);
  });

  it('moves cameras into free cells when shrinking, dropping only what cannot fit', () => {
    expect(resizeCells([1, null, null, null, 5, 6, null, 8, null], 4)).toEqual([1, 5, 6, 8]);
    expect(resizeCells([1, 2, 3, 4, 5], 4)).toEqual([1, 2, 3, 4]);
  });

  it('forgets an enlarged cell that no longer exists', () => {
    const s = gridReducer(grid([1, 2, 3, 4, 5, 6, 7, 8, 9], { enlarged: 7, selected: 7 }),
      { type: 'setGrid', grid: 4 });
    expect(s.enlarged).toBeNull();
    expect(s.selected).toBeNull();
  });

  it('picks the smallest grid for a number of cameras', () => {
    expect([0, 1, 2, 4, 5, 10, 16, 20].map(gridFor)).toEqual([1, 1, 4, 4, 9, 16, 16, 16]);
  });
});

describe('cells', () => {
  it('assigns a camera to a cell', () => {
    const s = gridReducer(grid([null, null, null, null]), { type: 'assign', cell: 2, cameraId: 7 });
    expect(s.cells).toEqual([null, null, 7, null]);
    expect(s.selected).toBe(2);
  });

  it('shows each camera once: assigning it elsewhere swaps', () => {
    const s = gridReducer(grid([7, 8, null, null]), { type: 'assign', cell: 1, cameraId: 7 });
    expect(s.cells).toEqual([8, 7, null, null]);
  });

  it('ignores cells out of range', () => {
    const before = grid([null, null, null, null]);
    expect(gridReducer(before, { type: 'assign', cell: 4, cameraId: 1 })).toBe(before);
    expect(gridReducer(before, { type: 'move', from: -1, to: 0 })).toBe(before);
  });

  it('swaps two cells (drag a tile onto another)', () => {
    const s = gridReducer(grid([1, 2, 3, 4]), { type: 'move', from: 0, to: 3 });
    expect(s.cells).toEqual([4, 2, 3, 1]);
  });

  it('clears a cell and leaves enlarged mode if it was that cell', () => {
    const s = gridReducer(grid([1, 2, 3, 4], { enlarged: 1 }), { type: 'clear', cell: 1 });
    expect(s.cells).toEqual([1, null, 3, 4]);
    expect(s.enlarged).toBeNull();
  });

  it('places a camera in the first free cell, growing the grid when full', () => {
    let s = gridReducer(grid([1, null, 3, null]), { type: 'place', cameraId: 9 });
    expect(s.cells).toEqual([1, 9, 3, null]);
    s = gridReducer(grid([1, 2, 3, 4]), { type: 'place', cameraId: 9 });
    expect(s.grid).toBe(9);
    expect(s.cells.slice(0, 5)).toEqual([1, 2, 3, 4, 9]);
  });

  it('placing a camera already shown selects it', () => {
    const s = gridReducer(grid([1, 2, 3, 4]), { type: 'place', cameraId: 3 });
    expect(s.cells).toEqual([1, 2, 3, 4]);
    expect(s.selected).toBe(2);
    expect(s.dirty).toBe(false);
  });

  it('focuses a camera from an alert: placed, enlarged and selected', () => {
    const s = gridReducer(grid([1, 2, 3, 4]), { type: 'focus', cameraId: 9 });
    expect(s.cells[s.enlarged ?? -1]).toBe(9);
    expect(s.selected).toBe(s.enlarged);
  });

  it('removes cameras that are no longer visible', () => {
    const s = gridReducer(grid([1, 2, 3, 4]), { type: 'prune', visible: new Set([1, 3]) });
    expect(s.cells).toEqual([1, null, 3, null]);
  });
});

describe('saved layouts', () => {
  const saved = { id: 5, name: 'Lobby', grid: 4, cells: [3, null, 4, null] };

  it('loads a layout clean', () => {
    const s = gridReducer(grid([1, 2, 3, 4], { dirty: true, enlarged: 0 }), { type: 'load', layout: saved });
    expect(s).toMatchObject({ grid: 4, cells: [3, null, 4, null], layoutId: 5, layoutName: 'Lobby',
      dirty: false, enlarged: null });
  });

  it('becomes dirty on change and clean when saved', () => {
    let s = gridReducer(emptyGrid(), { type: 'load', layout: saved });
    s = gridReducer(s, { type: 'assign', cell: 1, cameraId: 8 });
    expect(s.dirty).toBe(true);
    expect(layoutBody(s)).toEqual({ grid: 4, cells: [3, 8, 4, null], tours: [] });
    s = gridReducer(s, { type: 'saved', layout: { ...saved, cells: [3, 8, 4, null] } });
    expect(s.dirty).toBe(false);
  });

  it('repairs a layout whose cells do not match its grid', () => {
    const s = gridReducer(emptyGrid(), { type: 'load', layout: { ...saved, grid: 7, cells: [1, 2, 3, 4, 5] } });
    expect(s.grid).toBe(9);
    expect(s.cells).toHaveLength(9);
  });

  it('detaches after the loaded layout is deleted', () => {
    let s = gridReducer(emptyGrid(), { type: 'load', layout: saved });
    s = gridReducer(s, { type: 'detach' });
    expect(s.layoutId).toBeNull();
    expect(s.cells).toEqual([3, null, 4, null]);
  });
});

describe('streams', () => {
  it('uses the sub-stream in small tiles and main when large', () => {
    const s = grid([1, 2, 3, 4], { enlarged: 2 });
    expect(streamFor(s, 0, true)).toBe('sub');
    expect(streamFor(s, 2, true)).toBe('main');
    expect(streamFor(s, 0, false)).toBe('main');
    expect(streamFor(grid([1]), 0, true)).toBe('main');
  });

  it('enlarges only a cell with a camera', () => {
    const s = grid([1, null, null, null]);
    expect(gridReducer(s, { type: 'enlarge', cell: 1 })).toBe(s);
    expect(gridReducer(s, { type: 'enlarge', cell: 0 }).enlarged).toBe(0);
  });
});
