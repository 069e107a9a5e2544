/** Events with their snapshots, filtered by camera, type and time; play the recording. */

import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { events as eventsApi, type EventQuery } from '../api/resources';
import { useSession } from '../auth/session';
import { Empty, ErrorNote, Loading, Pager } from '../components/Feedback';
import { useAsync } from '../components/useAsync';
import { useFormat } from '../i18n/format';
import { useCameras } from '../live/cameras';
import { fromLocalInput } from './time';
import { Snapshot } from './Snapshot';

const LIMIT = 24;
const TYPES = ['motion.start', 'motion.end', 'manual', 'rtmp.publish', 'rtmp.unpublish',
  'stream.down', 'stream.up'];

export function EventsPage() {
  const { t } = useTranslation();
  const fmt = useFormat();
  const { can } = useSession();
  const { cameras, nameOf } = useCameras();
  const [camera, setCamera] = useState('');
  const [type, setType] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [offset, setOffset] = useState(0);
  const query: EventQuery = {
    camera_id: camera ? Number(camera) : null, type: type || null,
    start: fromLocalInput(from), end: fromLocalInput(to), limit: LIMIT, offset,
  };
  const list = useAsync(() => eventsApi.list(query), JSON.stringify(query));
  const filter = (set: (v: string) => void) => (v: string) => {
    set(v);
    setOffset(0);
  };

  return (
    <div className="page">
      <header className="page-head">
        <h1>{t('events.title')}</h1>
        <button className="btn" onClick={list.reload}>{t('common.refresh')}</button>
      </header>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t('common.filters')}>
        <label className="inline-field"><span>{t('events.camera')}</span>
          <select value={camera} onChange={(e) => filter(setCamera)(e.target.value)}>
            <option value="">{t('common.all')}</option>
            {cameras.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </select></label>
        <label className="inline-field"><span>{t('events.type')}</span>
          <input list="event-types" value={type} placeholder="motion.start"
            onChange={(e) => filter(setType)(e.target.value.trim())} />
          <datalist id="event-types">{TYPES.map((x) => <option key={x} value={x} />)}</datalist>
        </label>
        <label className="inline-field"><span>{t('common.from')}</span>
          <input type="datetime-local" value={from} onChange={(e) => filter(setFrom)(e.target.value)} /></label>
        <label className="inline-field"><span>{t('common.to')}</span>
          <input type="datetime-local" value={to} onChange={(e) => filter(setTo)(e.target.value)} /></label>
      </form>
      <ErrorNote error={list.error} />
      {list.loading && !list.data && <Loading />}
      {list.data && list.data.items.length === 0 && <Empty>{t('events.none')}</Empty>}
      <ul className="event-cards">
        {list.data?.items.map((e) => {
          const cam = e.camera_id !== null ? nameOf(e.camera_id) : t('events.system');
          return (
            <li key={e.id} className={`event-card sev-${e.severity}`} data-event-id={e.id}>
              <Snapshot eventId={e.id} alt={t('events.snapshotOf', { type: e.type, camera: cam })} />
              <div className="event-info">
                <strong>{t(`eventTypes.${e.type.replace('.', '_')}`, { defaultValue: e.type })}</strong>
                <span>{cam}</span>
                <span className="muted small">{fmt.dateTime(e.started_at)}
                  {e.ended_at ? ` – ${fmt.time(e.ended_at, true)}` : ''}</span>
                <span className={`tag sev-${e.severity}`}>{t(`severity.${e.severity}`,
                  { defaultValue: e.severity })}</span>
                {e.kept && <span className="tag">{t('events.kept')}</span>}
              </div>
              {e.camera_id !== null && can('recordings:read') && (
                <Link className="btn small" to={`/playback?camera=${e.camera_id}&t=${encodeURIComponent(
                  new Date(Date.parse(e.started_at) - 2000).toISOString())}`}>{t('events.play')}</Link>
              )}
            </li>
          );
        })}
      </ul>
      {list.data && <Pager offset={offset} limit={LIMIT} total={list.data.total} onChange={setOffset} />}
    </div>
  );
}
