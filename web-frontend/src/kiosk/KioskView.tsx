/**
 * Wall monitors: a saved layout's grid on the whole screen, no header or navigation.
 * `/kiosk` lists the layouts to pick from; `/kiosk/layouts/:id` shows one. The layout is
 * reloaded every minute, so a change saved at a desk reaches the wall by itself; each tile
 * has its own error boundary and reconnects by itself.
 */

import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { keys } from '../api/queryClient';
import { layouts as layoutsApi } from '../api/resources';
import { useCameras } from '../cameras/useCameras';
import { Empty, ErrorNote, Loading } from '../components/Feedback';
import { useApiQuery } from '../components/useApiQuery';
import { emptyGrid, gridReducer, type GridState } from '../live/layoutState';
import { VideoGrid } from '../live/VideoGrid';

const LAYOUT_REFRESH_MS = 60_000;

function useLayouts() {
  return useApiQuery(keys.layouts, (signal) => layoutsApi.list(signal),
    { refetchInterval: LAYOUT_REFRESH_MS });
}

/** `/kiosk`: the layouts this user may show. */
export function KioskIndex() {
  const { t } = useTranslation();
  const list = useLayouts();
  return (
    <main className="kiosk kiosk-index" id="main">
      <h1>{t('kiosk.title')}</h1>
      <ErrorNote error={list.error} />
      {list.loading && <Loading />}
      {list.data?.length === 0 && <Empty>{t('kiosk.noLayouts')}</Empty>}
      <ul>
        {list.data?.map((l) => (
          <li key={l.id}><Link to={`/kiosk/layouts/${l.id}`}>{l.name}</Link></li>))}
      </ul>
    </main>
  );
}

/** `/kiosk/layouts/:id`: one layout, full screen. */
export function KioskLayout() {
  const { t } = useTranslation();
  const id = Number(useParams().id);
  const list = useLayouts();
  const { byId } = useCameras();
  const layout = list.data?.find((l) => l.id === id) ?? null;
  const base = useMemo(() => (layout ? gridReducer(emptyGrid(), { type: 'load', layout })
    : null), [layout]);
  // The only thing a wall changes is which tile is enlarged; the layout is not edited here.
  const [enlarged, setEnlarged] = useState<number | null>(null);
  const shown = enlarged !== null && base?.cells[enlarged] != null ? enlarged : null;
  const state: GridState | null = base && { ...base, enlarged: shown, selected: shown };

  if (list.loading) return <main className="kiosk" id="main"><Loading /></main>;
  if (!layout || !state) {
    return (
      <main className="kiosk kiosk-index" id="main">
        <ErrorNote error={list.error} />
        {!list.error && <Empty>{t('kiosk.notFound')}</Empty>}
        <Link to="/kiosk">{t('kiosk.title')}</Link>
      </main>
    );
  }
  return (
    <main className="kiosk" id="main" aria-label={layout.name} data-layout-id={layout.id}>
      <VideoGrid state={state} byId={byId} readOnly
        dispatch={(a) => { if (a.type === 'enlarge') setEnlarged(a.cell); }} />
    </main>
  );
}
