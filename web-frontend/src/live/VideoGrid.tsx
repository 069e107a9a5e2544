/** The grid of live tiles: 1, 4, 9 or 16 cells; drop cameras in, drag tiles to swap. */

import { useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Camera } from '../api/types';
import { ErrorBoundary } from '../components/ErrorBoundary';
import { IconPlus } from '../components/icons';
import { CameraPicker } from './CameraPicker';
import { CameraTile } from './CameraTile';
import { CAMERA_MIME, CELL_MIME, dropId } from './dnd';
import { streamFor, tourAt, type GridAction, type GridState } from './layoutState';
import { TourTile } from './TourTile';

const TILE_RETRY_MS = 15_000;

interface GridProps {
  state: GridState;
  dispatch(a: GridAction): void;
  byId(id: number): Camera | undefined;
  /** A wall (kiosk): tiles can be enlarged, nothing else changes. */
  readOnly?: boolean;
}

export function VideoGrid({ state, dispatch, byId, readOnly = false }: GridProps) {
  const { t } = useTranslation();
  const [picking, setPicking] = useState<number | null>(null);
  const side = Math.sqrt(state.grid);

  const drop = (cell: number) => (e: DragEvent) => {
    e.preventDefault();
    e.stopPropagation();
    const from = dropId(e, CELL_MIME);
    if (from !== null) {
      dispatch({ type: 'move', from, to: cell });
      return;
    }
    const cam = dropId(e, CAMERA_MIME);
    if (cam !== null) dispatch({ type: 'assign', cell, cameraId: cam });
  };

  const cells = state.enlarged !== null ? [state.enlarged] : state.cells.map((_, i) => i);
  const cols = state.enlarged !== null ? 1 : side;

  return (
    <div className="grid" data-grid={state.grid}
      style={{ gridTemplateColumns: `repeat(${cols}, minmax(0, 1fr))`,
        gridTemplateRows: `repeat(${cols}, minmax(0, 1fr))` }}>
      {cells.map((cell) => {
        const tour = tourAt(state, cell);
        const touring = (tour?.cameras ?? []).map(byId).filter((c): c is Camera => !!c);
        if (tour && touring.length >= 2) {
          return (
            <ErrorBoundary key={cell} variant="tile" resetKey={tour.cameras.join(',')}
              label={t('live.tour')} autoRetryMs={TILE_RETRY_MS}>
              <TourTile tour={tour} cameras={touring} cell={cell}
                stream={(c) => streamFor(state, cell, Boolean(c.sub_stream_url))}
                enlarged={state.enlarged === cell} selected={state.selected === cell}
                onSelect={() => dispatch({ type: 'select', cell })}
                onToggleEnlarge={() => dispatch({ type: 'enlarge',
                  cell: state.enlarged === cell ? null : cell })}
                onRemove={readOnly ? undefined : () => dispatch({ type: 'clear', cell })}
                onDrop={readOnly ? undefined : drop(cell)} />
            </ErrorBoundary>
          );
        }
        const camId = touring[0]?.id ?? state.cells[cell] ?? null;
        const camera = camId !== null ? byId(camId) : undefined;
        if (!camera && readOnly) return <div key={cell} className="tile empty" data-cell={cell} />;
        if (!camera) {
          return (
            <div key={cell} className="tile empty" data-cell={cell}
              onDragOver={(e) => e.preventDefault()} onDrop={drop(cell)}>
              <button type="button" className="btn ghost" onClick={() => setPicking(cell)}
                aria-label={t('live.chooseFor', { cell: cell + 1 })}>
                <IconPlus /> {t('live.chooseCamera')}
              </button>
              <span className="hint">{t('live.dropHint')}</span>
            </div>
          );
        }
        // One tile's render error leaves the other tiles playing; it retries by itself.
        return (
          <ErrorBoundary key={cell} variant="tile" resetKey={camera.id} label={camera.name}
            autoRetryMs={TILE_RETRY_MS}>
          <CameraTile camera={camera} cell={cell}
            stream={streamFor(state, cell, Boolean(camera.sub_stream_url))}
            enlarged={state.enlarged === cell} selected={state.selected === cell}
            onSelect={() => dispatch({ type: 'select', cell })}
            onToggleEnlarge={() => dispatch({ type: 'enlarge',
              cell: state.enlarged === cell ? null : cell })}
            onRemove={readOnly ? undefined : () => dispatch({ type: 'clear', cell })}
            onDrop={readOnly ? undefined : drop(cell)} />
          </ErrorBoundary>
        );
      })}
      {picking !== null && (
        <CameraPicker cell={picking} exclude={state.cells}
          onPick={(id) => { dispatch({ type: 'assign', cell: picking, cameraId: id });
            setPicking(null); }}
          onClose={() => setPicking(null)} />
      )}
    </div>
  );
}
