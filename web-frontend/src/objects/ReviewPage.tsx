/**
 * Review: unreviewed detections per camera, newest first. Keyboard: j / k move, r marks the
 * selected one reviewed, Enter plays it; a button marks the whole page.
 */

import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useEffectEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSession } from '../auth/session';
import { useCameras } from '../cameras/useCameras';
import { Empty, ErrorNote, Loading, Pager } from '../components/Feedback';
import { useUrlFilters } from '../components/urlFilters';
import { useApiQuery } from '../components/useApiQuery';
import { useFormat } from '../i18n/format';
import { useSocketMessage } from '../socket/SocketProvider';
import { boxOf, objectKeys, objectsApi, type TrackedObject } from './api';
import { ObjectSnapshot } from './ObjectSnapshot';
import { ObjectViewer } from './ObjectViewer';
import '../styles/objects.css';

const LIMIT = 24;
const FILTERS = ['camera'] as const;

/** Keys typed into a form control are the control's, not the page's. */
function typing(target: EventTarget | null): boolean {
  return target instanceof HTMLElement
    && (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName));
}

export function ReviewPage() {
  const { t } = useTranslation();
  const fmt = useFormat();
  const { can } = useSession();
  const qc = useQueryClient();
  const { nameOf } = useCameras();
  const f = useUrlFilters(FILTERS);
  const cameraId = Number(f.values.camera) > 0 ? Number(f.values.camera) : null;
  const q = { camera_id: cameraId, limit: LIMIT, offset: f.offset };
  const queue = useApiQuery(objectKeys.queue(q), (signal) => objectsApi.queue(q, signal),
    { keepPrevious: true, refetchInterval: 30_000 });
  const summary = useApiQuery(objectKeys.summary, (signal) => objectsApi.summary(signal),
    { refetchInterval: 30_000 });
  const [selected, setSelected] = useState(0);
  const [open, setOpen] = useState<TrackedObject | null>(null);
  const [error, setError] = useState<unknown>(null);
  const items = queue.data?.items ?? [];
  const index = Math.min(selected, Math.max(items.length - 1, 0));
  const current = items[index] ?? null;
  const mayReview = can('events:ack');

  // A new object alert means new detections to review.
  useSocketMessage('alert', (frame) => {
    if (frame.kind.startsWith('object.')) void qc.invalidateQueries({ queryKey: objectKeys.all });
  });

  const mark = async (ids: number[]) => {
    if (!mayReview || ids.length === 0) return;
    setError(null);
    try {
      if (ids.length === 1) await objectsApi.review(ids[0]!);
      else await objectsApi.reviewMany(ids);
    } catch (err) {
      setError(err);
    }
    await qc.invalidateQueries({ queryKey: objectKeys.all });
  };

  const onKey = useEffectEvent((e: KeyboardEvent) => {
    if (open || e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) return;
    if (e.key === 'j') setSelected(Math.min(index + 1, Math.max(items.length - 1, 0)));
    else if (e.key === 'k') setSelected(Math.max(index - 1, 0));
    else if (e.key === 'r' && current) void mark([current.id]);
    else if (e.key === 'Enter' && current) setOpen(current);
    else return;
    e.preventDefault();
  });
  useEffect(() => {
    const handler = (e: KeyboardEvent) => onKey(e);
    window.addEventListener('keydown', handler);
    return () => window.removeEventListener('keydown', handler);
  }, []);
  useEffect(() => {
    document.querySelector(`[data-object-id="${current?.id}"]`)?.scrollIntoView?.(
      { block: 'nearest' });
  }, [current?.id]);

  const total = (summary.data ?? []).reduce((n, s) => n + s.unreviewed, 0);
  return (
    <div className="page review-page">
      <header className="page-head">
        <h1>{t('review.title')}</h1>
        <p className="muted small">{t('review.keys')}</p>
        {mayReview && items.length > 0 && (
          <button className="btn" type="button" onClick={() => void mark(items.map((o) => o.id))}>
            {t('review.markPage', { count: items.length })}</button>)}
      </header>
      <div className="review-layout">
        <nav className="review-cameras" aria-label={t('review.cameras')}>
          <button type="button" aria-current={cameraId === null ? 'true' : undefined}
            onClick={() => f.set('camera', '')}>
            {t('review.allCameras')} <span className="count">{total}</span></button>
          {(summary.data ?? []).map((s) => (
            <button key={s.camera_id} type="button" data-camera-id={s.camera_id}
              aria-current={cameraId === s.camera_id ? 'true' : undefined}
              onClick={() => f.set('camera', String(s.camera_id))}>
              {nameOf(s.camera_id)} <span className="count">{s.unreviewed}</span></button>
          ))}
        </nav>
        <section className="review-queue" aria-label={t('review.queue')}>
          <ErrorNote error={queue.error ?? error} />
          {queue.loading && !queue.data && <Loading />}
          {queue.data && items.length === 0 && <Empty>{t('review.none')}</Empty>}
          <ul className="object-grid" role="listbox" aria-label={t('review.queue')}>
            {items.map((o, i) => {
              const camera = nameOf(o.camera_id);
              const label = t(`objectLabels.${o.label}`, { defaultValue: o.label });
              return (
                <li key={o.id} data-object-id={o.id} role="option" aria-selected={i === index}
                  className={i === index ? 'selected' : undefined}
                  onClick={() => setSelected(i)} onDoubleClick={() => setOpen(o)}>
                  <ObjectSnapshot eventId={o.event_id} hasSnapshot={o.snapshot_url !== null}
                    box={boxOf(o)} alt={t('search.snapshotOf', { label, camera })} />
                  <span className="object-info">
                    <strong>{label}</strong><span>{camera}</span>
                    <span className="muted small">{fmt.dateTime(o.first_seen)}</span>
                    {[...o.zones, ...o.lines].map((z) => <span key={z} className="tag">{z}</span>)}
                  </span>
                  {mayReview && (
                    <button type="button" className="btn small"
                      onClick={(e) => { e.stopPropagation(); void mark([o.id]); }}>
                      {t('review.mark')}</button>)}
                </li>
              );
            })}
          </ul>
          {queue.data && <Pager offset={f.offset} limit={LIMIT} total={queue.data.total}
            onChange={f.setOffset} />}
        </section>
      </div>
      {open && <ObjectViewer object={open} onClose={() => setOpen(null)} />}
    </div>
  );
}
