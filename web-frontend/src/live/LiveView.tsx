/** Live view: camera list, the grid with its layouts, and the PTZ panel of the selected tile. */

import { useEffect, useReducer, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { useSession } from '../auth/session';
import { IconFullscreen } from '../components/icons';
import { PtzPanel } from '../ptz/PtzPanel';
import { CameraList } from './CameraList';
import { useCameras } from '../cameras/useCameras';
import { LayoutBar } from './LayoutBar';
import { GRID_SIZES, gridReducer, persistGrid, restoreGrid, tourAt } from './layoutState';
import { TourDialog } from './TourDialog';
import { VideoGrid } from './VideoGrid';

export function LiveView() {
  const { t } = useTranslation();
  const { can } = useSession();
  const { cameras, byId, loading, error } = useCameras();
  const [state, dispatch] = useReducer(gridReducer, undefined, restoreGrid);
  const [params, setParams] = useSearchParams();
  const gridRef = useRef<HTMLDivElement>(null);
  const [touring, setTouring] = useState<number | null>(null);

  useEffect(() => persistGrid(state), [state]);

  // Cameras deleted or no longer granted leave their cells.
  useEffect(() => {
    if (!loading && !error) dispatch({ type: 'prune', visible: new Set(cameras.map((c) => c.id)) });
  }, [cameras, loading, error]);

  // First login (nothing chosen yet): the user's first cameras instead of empty cells.
  useEffect(() => {
    if (!loading && !error) dispatch({ type: 'defaults', cameras: cameras.map((c) => c.id) });
  }, [cameras, loading, error]);

  // /live?camera=ID (from an alert): show that camera, enlarged.
  const wanted = Number(params.get('camera'));
  useEffect(() => {
    if (!wanted || !byId(wanted)) return;
    dispatch({ type: 'focus', cameraId: wanted });
    setParams({}, { replace: true });
  }, [wanted, byId, setParams]);

  const selectedId = state.selected !== null ? state.cells[state.selected] ?? null : null;
  const selected = selectedId !== null ? byId(selectedId) : undefined;

  const fullscreen = () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void gridRef.current?.requestFullscreen?.();
  };

  return (
    <div className="live">
      <CameraList inGrid={state.cells} onAdd={(id) => dispatch({ type: 'place', cameraId: id })} />
      <section className="live-main" aria-label={t('live.title')}>
        <div className="toolbar">
          <div className="segmented" role="radiogroup" aria-label={t('live.gridSize')}>
            {GRID_SIZES.map((g) => (
              <button key={g} type="button" role="radio" aria-checked={state.grid === g}
                className={state.grid === g ? 'active' : ''} data-grid-size={g}
                onClick={() => dispatch({ type: 'setGrid', grid: g })}
                title={t('live.gridOf', { count: g })}>
                {g === 1 ? '1' : `${Math.sqrt(g)}×${Math.sqrt(g)}`}
              </button>
            ))}
          </div>
          <LayoutBar state={state} dispatch={dispatch} />
          <button type="button" className="btn" disabled={state.selected === null}
            data-testid="tour-setup"
            onClick={() => setTouring(state.selected)}>{t('live.tourSetup')}</button>
          <button type="button" className="btn icon-text" onClick={fullscreen}
            aria-label={t('live.fullscreenGrid')}><IconFullscreen /> {t('live.fullscreen')}</button>
        </div>
        <div ref={gridRef} className="grid-wrap">
          <VideoGrid state={state} dispatch={dispatch} byId={byId} />
        </div>
      </section>
      {touring !== null && (
        <TourDialog cell={touring} cameras={cameras} current={tourAt(state, touring)}
          onSave={(tour) => { dispatch({ type: 'tour', tour }); setTouring(null); }}
          onStop={() => { dispatch({ type: 'untour', cell: touring }); setTouring(null); }}
          onClose={() => setTouring(null)} />
      )}
      {selected?.has_ptz && can('ptz:control') && <PtzPanel key={selected.id} camera={selected} />}
    </div>
  );
}
