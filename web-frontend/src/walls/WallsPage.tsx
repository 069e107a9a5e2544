/**
 * `/walls`: the operators' wall overview. Each wall shows its monitors with what they show,
 * who pushed it and whether the monitor's browser is online (polled every 3 s, and re-read
 * at once on a `wall.changed` frame of /ws/alerts: a push from another console or an alarm). Drag a
 * camera from the list onto a monitor (or select a monitor and click a camera) to push it;
 * push a saved layout or clear a monitor from its card. With `walls:manage`: walls and
 * monitors, alarm kinds, display keys (shown once).
 */

import { useQueryClient } from '@tanstack/react-query';
import { useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { keys } from '../api/queryClient';
import { layouts as layoutsApi } from '../api/resources';
import { useSession } from '../auth/session';
import { useCameras } from '../cameras/useCameras';
import { Empty, ErrorNote, Loading } from '../components/Feedback';
import { useApiQuery } from '../components/useApiQuery';
import { useSocketMessage } from '../socket/SocketProvider';
import { CameraList } from '../live/CameraList';
import { CAMERA_MIME, dropId } from '../live/dnd';
import { TourDialog } from '../live/TourDialog';
import { contentCameras, walls as wallsApi, type Monitor, type Push, type Wall } from './api';
import { WallManage, MonitorManage } from './WallManage';

const POLL_MS = 3_000;
export const WALLS_KEY = ['walls'] as const;

export function WallsPage() {
  const { t } = useTranslation();
  const { can } = useSession();
  const qc = useQueryClient();
  const list = useApiQuery(WALLS_KEY, (signal) => wallsApi.list(signal),
    { refetchInterval: POLL_MS });
  useSocketMessage('wall', (frame) => { if (frame.type === 'wall.changed') list.reload(); });
  const [selected, setSelected] = useState<Monitor | null>(null);
  const [error, setError] = useState<unknown>(null);
  const control = can('walls:control');

  const push = async (m: Monitor, body: Push) => {
    setError(null);
    try {
      const updated = await wallsApi.push(m, body);
      qc.setQueryData<Wall[]>(WALLS_KEY, (old) => old?.map((w) => ({ ...w,
        monitors: w.monitors.map((x) => (x.id === updated.id ? updated : x)) })));
    } catch (err) {
      setError(err);
    }
  };
  const walls = list.data;
  const onShown = (walls ?? []).flatMap((w) => w.monitors.flatMap((m) => contentCameras(m.content)));

  return (
    <div className="live walls-page">
      {control && <CameraList inGrid={onShown}
        onAdd={(id) => { if (selected) void push(selected, { kind: 'camera', camera_id: id }); }} />}
      <section className="walls" aria-label={t('walls.title')}>
        <h1>{t('walls.title')}</h1>
        <p className="muted small">{control ? t('walls.hint') : ''}</p>
        <ErrorNote error={list.error ?? error} />
        {list.loading && <Loading />}
        {walls?.length === 0 && <Empty>{t('walls.none')}</Empty>}
        {can('walls:manage') && <WallManage onChange={() => list.reload()} />}
        {walls?.map((w) => (
          <section key={w.id} className="wall" aria-label={w.name} data-wall-id={w.id}>
            <h2>{w.name}</h2>
            <div className="wall-monitors">
              {w.monitors.map((m) => (
                <MonitorCard key={m.id} monitor={m} control={control}
                  selected={selected?.id === m.id} onSelect={() => setSelected(m)}
                  onPush={(body) => push(m, body)} onChange={() => list.reload()} />
              ))}
              {w.monitors.length === 0 && <Empty>{t('walls.noMonitors')}</Empty>}
            </div>
            {can('walls:manage') && <WallManage wall={w} onChange={() => list.reload()} />}
          </section>
        ))}
      </section>
    </div>
  );
}

function MonitorCard({ monitor: m, control, selected, onSelect, onPush, onChange }: {
  monitor: Monitor; control: boolean; selected: boolean; onSelect(): void;
  onPush(body: Push): Promise<void>; onChange(): void;
}) {
  const { t } = useTranslation();
  const { can } = useSession();
  const { cameras, nameOf } = useCameras();
  const [over, setOver] = useState(false);
  const [touring, setTouring] = useState(false);
  const layouts = useApiQuery(keys.layouts, (signal) => layoutsApi.list(signal),
    { enabled: control });
  const source = m.content.source;
  const kind = source?.kind ?? 'empty';
  const shown = contentCameras(m.content);
  const label = kind === 'empty' ? t('walls.empty')
    : `${t(`walls.kind.${kind}`)}: ${source?.name ?? shown.map(nameOf).join(', ')}`;

  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const id = dropId(e, CAMERA_MIME);
    if (id !== null && control) void onPush({ kind: 'camera', camera_id: id });
  };
  return (
    <article className={`monitor-card${selected ? ' selected' : ''}${over ? ' drop' : ''}`}
      aria-label={m.name} data-monitor-id={m.id} data-online={m.online}
      data-source-kind={kind} data-cameras={shown.join(',')} tabIndex={0}
      onClick={onSelect} onFocus={onSelect}
      onDragOver={(e) => { if (control) { e.preventDefault(); setOver(true); } }}
      onDragLeave={() => setOver(false)} onDrop={drop}>
      <header>
        <span className={`dot ${m.online ? 'online' : 'offline'}`} aria-hidden="true" />
        <strong>{m.name}</strong>
        <span className="muted small">{m.online ? t('walls.online') : t('walls.offline')}</span>
      </header>
      <p className="monitor-content">{label}</p>
      {m.pushed_at && (
        <p className="muted small">{t('walls.pushedBy', { who: m.pushed_by ?? '—',
          when: new Date(m.pushed_at).toLocaleTimeString() })}</p>)}
      {control && (
        <div className="row">
          <select aria-label={t('walls.pushLayout')} value=""
            onChange={(e) => { const id = Number(e.target.value);
              if (id) void onPush({ kind: 'layout', layout_id: id }); }}>
            <option value="">{t('walls.pushLayout')}</option>
            {layouts.data?.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
          </select>
          <button type="button" className="btn ghost small"
            onClick={() => setTouring(true)}>{t('live.tourSetup')}</button>
          <button type="button" className="btn ghost small" disabled={kind === 'empty'}
            onClick={() => void onPush({ kind: 'clear' })}>{t('walls.clear')}</button>
        </div>
      )}
      {touring && (
        <TourDialog cell={0} cameras={cameras}
          current={kind === 'tour' ? m.content.tours?.[0] : undefined}
          onSave={(tour) => { setTouring(false);
            void onPush({ kind: 'tour', cameras: tour.cameras, dwell_s: tour.dwell_s }); }}
          onStop={() => { setTouring(false); void onPush({ kind: 'clear' }); }}
          onClose={() => setTouring(false)} />
      )}
      {can('walls:manage') && <MonitorManage monitor={m} onChange={onChange} />}
    </article>
  );
}
