/**
 * `/wall/:wallId/:monitorId`: a wall monitor (a browser in kiosk mode). No user signs in:
 * the monitor's display credential (see displayKey.ts) gets display tokens that show only
 * what is pushed to this monitor. Its socket (`/ws/wall-display`, displaySocket.ts) says when
 * the content changed and the page re-reads it at once; it also polls, every 15 s while the
 * socket is open and every 2 s while it is not. The open socket, or the polls, tell the
 * operators it is online. Content, player retries and reconnects survive a reload because
 * the content lives on the server.
 */

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useLayoutEffect, useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router-dom';
import { api } from '../api/client';
import type { Camera } from '../api/types';
import { emptyGrid, gridReducer } from '../live/layoutState';
import { VideoGrid } from '../live/VideoGrid';
import { display, type DisplayState } from './api';
import { useDisplaySocket } from './displaySocket';
import { displayTokens, forgetDisplayKey, rememberDisplayKey, takeDisplayKey } from './displayKey';

/** Polls while the socket is open (a missed frame) and while it is not (no push). */
export const PUSHED_POLL_MS = 15_000;
export const POLL_MS = 2_000;

type DisplayCamera = DisplayState['cameras'][number];

/** A pushed camera in the shape the grid's tiles take (a monitor never sees URLs). */
function asCamera(c: DisplayCamera): Camera {
  return {
    id: c.id, name: c.name, status: c.status, kind: 'rtsp', stream_url: '',
    sub_stream_url: c.has_sub_stream ? 'sub' : null, username: null, has_password: false,
    onvif_host: null, onvif_port: null, has_ptz: false, enabled: true, recording_mode: 'off',
    retention_days: 0, connect_timeout_s: 0, read_timeout_s: 0, last_seen: null,
    created_at: '', updated_at: '',
    analysis: { enabled: false, sensitivity: 0, min_area: 0, zones: [], masks: [],
      start_frames: 0, end_quiet_s: 0 },
  };
}

export function WallMonitor() {
  const params = useParams();
  const wall = Number(params.wallId);
  const monitor = Number(params.monitorId);
  const [key, setKey] = useState<string | null>(() => takeDisplayKey(wall, monitor));
  const [refused, setRefused] = useState(false);

  const source = useMemo(() => (key ? displayTokens(wall, monitor, key,
    () => setRefused(true)) : null), [wall, monitor, key]);
  // A layout effect: it runs before the content query and the players (passive effects of
  // the children) ask for a token.
  useLayoutEffect(() => {
    api.setTokenSource(source);
    return () => api.setTokenSource(null);
  }, [source]);

  if (!key || !source) {
    return <KeyForm onKey={(k) => { rememberDisplayKey(wall, monitor, k); setRefused(false);
      setKey(k); }} />;
  }
  return <MonitorView key={key} wall={wall} monitor={monitor} refused={refused}
    token={source} onForget={() => { forgetDisplayKey(wall, monitor); setKey(null); }} />;
}

function MonitorView({ wall, monitor, refused, token, onForget }: { wall: number;
  monitor: number; refused: boolean; token: (renew: boolean) => Promise<string>;
  onForget(): void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const queryKey = useMemo(() => ['wall-display', wall, monitor], [wall, monitor]);
  const push = useDisplaySocket({ token, enabled: !refused,
    onChanged: () => void qc.invalidateQueries({ queryKey }) });
  const q = useQuery({
    queryKey,
    queryFn: ({ signal }) => display.state(signal),
    refetchInterval: push.status === 'open' ? PUSHED_POLL_MS : POLL_MS,
    retry: true,
    retryDelay: 3_000,
  });
  const state = q.data;
  const content = state?.content;
  const grid = useMemo(() => (content ? gridReducer(emptyGrid(), { type: 'load', layout: {
    id: 0, name: '', grid: content.grid ?? 1, cells: content.cells ?? [null],
    tours: (content.tours ?? []).map((tour) => ({ ...tour })) } }) : null), [content]);
  const cameras = useMemo(() => new Map((state?.cameras ?? []).map((c) => [c.id, asCamera(c)])),
    [state?.cameras]);
  const [enlarged, setEnlarged] = useState<number | null>(null);

  const kind = content?.source?.kind ?? 'empty';
  const offline = q.isError && !q.isFetching;
  return (
    <main className="kiosk wall-monitor" id="main" data-wall-id={wall} data-monitor-id={monitor}
      data-source-kind={kind} data-cameras={[...cameras.keys()].join(',')}
      data-push={push.status} data-push-changes={push.changes}
      aria-label={state ? `${state.wall_name} / ${state.monitor_name}` : t('walls.monitor')}>
      {refused && (
        <div className="wall-banner error" role="alert">
          {t('walls.refused')}{' '}
          <button type="button" className="btn ghost small" onClick={onForget}>
            {t('walls.enterKey')}</button>
        </div>
      )}
      {!refused && offline && <div className="wall-banner" role="status">{t('walls.reconnecting')}</div>}
      {kind === 'alarm' && content?.source?.name && (
        <div className="wall-banner alarm" role="status">{content.source.name}</div>)}
      {grid && kind !== 'empty' ? (
        <VideoGrid readOnly byId={(id) => cameras.get(id)}
          state={{ ...grid, enlarged: enlarged !== null && grid.cells[enlarged] != null
            ? enlarged : null, selected: null }}
          dispatch={(a) => { if (a.type === 'enlarge') setEnlarged(a.cell); }} />
      ) : (
        <div className="wall-idle">
          <p className="wall-name">{state ? `${state.wall_name} · ${state.monitor_name}` : ''}</p>
          <p className="muted">{q.isPending ? t('common.loading') : t('walls.waiting')}</p>
        </div>
      )}
    </main>
  );
}

function KeyForm({ onKey }: { onKey(key: string): void }) {
  const { t } = useTranslation();
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim()) onKey(value.trim());
  };
  return (
    <main className="kiosk kiosk-index" id="main">
      <h1>{t('walls.monitor')}</h1>
      <form onSubmit={submit} className="form">
        <label>{t('walls.displayKey')}
          <input type="password" autoComplete="off" value={value}
            onChange={(e) => setValue(e.target.value)} /></label>
        <button type="submit" className="btn">{t('walls.connect')}</button>
      </form>
    </main>
  );
}
