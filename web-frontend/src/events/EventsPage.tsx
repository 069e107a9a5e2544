/** Events with their snapshots, filtered by camera, type and time; play the recording. */

import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { events as eventsApi, type EventQuery } from '../api/resources';
import { useSession } from '../auth/session';
import { Empty, ErrorNote, Loading, Pager } from '../components/Feedback';
import { keys } from '../api/queryClient';
import { useCameras } from '../cameras/useCameras';
import { useApiQuery } from '../components/useApiQuery';
import { DebouncedInput, useUrlFilters } from '../components/urlFilters';
import { useFormat } from '../i18n/format';
import { EventHolds } from '../holds/EventHolds';
import { HoldButton } from '../holds/HoldButton';
import { fromLocalInput } from './time';
import { Snapshot } from './Snapshot';

const LIMIT = 24;
const FILTERS = ['camera', 'type', 'from', 'to'] as const;
const TYPES = ['motion.start', 'motion.end', 'manual', 'rtmp.publish', 'rtmp.unpublish',
  'stream.down', 'stream.up'];

export function EventsPage() {
  const { t } = useTranslation();
  const fmt = useFormat();
  const { can } = useSession();
  const { cameras, nameOf } = useCameras();
  const f = useUrlFilters(FILTERS);
  const { camera, type, from, to } = f.values;
  const offset = f.offset;
  const query: EventQuery = {
    camera_id: camera ? Number(camera) : null, type: type || null,
    start: fromLocalInput(from), end: fromLocalInput(to), limit: LIMIT, offset,
  };
  const list = useApiQuery(keys.events(query), (signal) => eventsApi.list(query, signal),
    { keepPrevious: true });
  // Events picked for one export (kept across pages and filters until exported).
  const [picked, setPicked] = useState<number[]>([]);
  const pick = (id: number) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id)
    : [...p, id]));

  return (
    <div className="page">
      <header className="page-head">
        <h1>{t('events.title')}</h1>
        {picked.length > 0 && can('recordings:export') && (
          <Link className="btn primary" to={`/exports?events=${picked.join(',')}`}>
            {t('exports.selected', { count: picked.length })}</Link>)}
        <button className="btn" onClick={list.reload}>{t('common.refresh')}</button>
      </header>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t('common.filters')}>
        <label className="inline-field"><span>{t('events.camera')}</span>
          <select value={camera} onChange={(e) => f.set('camera', e.target.value)}>
            <option value="">{t('common.all')}</option>
            {cameras.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </select></label>
        <label className="inline-field"><span>{t('events.type')}</span>
          <DebouncedInput list="event-types" value={type} placeholder="motion.start"
            onChange={(v) => f.set('type', v)} />
          <datalist id="event-types">{TYPES.map((x) => <option key={x} value={x} />)}</datalist>
        </label>
        <label className="inline-field"><span>{t('common.from')}</span>
          <input type="datetime-local" value={from} onChange={(e) => f.set('from', e.target.value)} /></label>
        <label className="inline-field"><span>{t('common.to')}</span>
          <input type="datetime-local" value={to} onChange={(e) => f.set('to', e.target.value)} /></label>
      </form>
      <ErrorNote error={list.error} />
      {list.loading && !list.data && <Loading />}
      {list.data && list.data.items.length === 0 && <Empty>{t('events.none')}</Empty>}
      <EventHolds events={list.data?.items ?? []}>{(holdFor) => (
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
                {holdFor(e.id) && <span className="tag held">{t('holds.held')}</span>}
              </div>
              {e.camera_id !== null && can('recordings:export') && (
                <label className="check"><input type="checkbox" checked={picked.includes(e.id)}
                  onChange={() => pick(e.id)} aria-label={t('exports.selected', { count: 1 })} />
                </label>)}
              {e.camera_id !== null && (
                <HoldButton target={{ kind: 'event', event_id: e.id }} hold={holdFor(e.id)} />)}
              {e.camera_id !== null && can('recordings:read') && (
                <Link className="btn small" to={`/playback?camera=${e.camera_id}&t=${encodeURIComponent(
                  new Date(Date.parse(e.started_at) - 2000).toISOString())}`}>{t('events.play')}</Link>
              )}
            </li>
          );
        })}
      </ul>)}</EventHolds>
      {list.data && <Pager offset={offset} limit={LIMIT} total={list.data.total} onChange={f.setOffset} />}
    </div>
  );
}
