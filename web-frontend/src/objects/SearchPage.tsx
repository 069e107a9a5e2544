/**
 * Search of tracked objects: filters in the URL (a link shares the search), a grid of
 * snapshots with the box drawn, time and camera; a click plays the object's recording.
 */

import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useCameras } from '../cameras/useCameras';
import { Empty, ErrorNote, Loading, Pager } from '../components/Feedback';
import { DebouncedInput, useUrlFilters } from '../components/urlFilters';
import { useApiQuery } from '../components/useApiQuery';
import { fromLocalInput } from '../events/time';
import { useFormat } from '../i18n/format';
import { boxOf, COLOURS, LABELS, objectKeys, objectsApi, type SearchQuery,
  type TrackedObject } from './api';
import { ObjectSnapshot } from './ObjectSnapshot';
import { ObjectViewer } from './ObjectViewer';
import '../styles/objects.css';

const LIMIT = 24;
const FILTERS = ['label', 'camera', 'zone', 'line', 'from', 'to', 'color', 'dwell', 'score',
  'sort', 'reviewed'] as const;

/** A comma list from the URL, without blanks. */
const list = (raw: string) => raw.split(',').map((s) => s.trim()).filter(Boolean);
const number = (raw: string) => (raw === '' || Number.isNaN(Number(raw)) ? null : Number(raw));

export function toQuery(v: Record<(typeof FILTERS)[number], string>, offset: number):
  SearchQuery {
  return {
    labels: list(v.label), camera_ids: list(v.camera).map(Number).filter((n) => n > 0),
    zone: v.zone || null, line: v.line || null, start: fromLocalInput(v.from),
    end: fromLocalInput(v.to), colors: list(v.color), min_dwell_s: number(v.dwell),
    min_score: number(v.score), reviewed: v.reviewed === '' ? null : v.reviewed === 'true',
    sort: v.sort === 'score' ? 'score' : 'time', limit: LIMIT, offset,
  };
}

export function SearchPage() {
  const { t } = useTranslation();
  const fmt = useFormat();
  const { cameras, nameOf } = useCameras();
  const f = useUrlFilters(FILTERS);
  const v = f.values;
  const query = toQuery(v, f.offset);
  const result = useApiQuery(objectKeys.search(query), (signal) => objectsApi.search(query,
    signal), { keepPrevious: true });
  const [open, setOpen] = useState<TrackedObject | null>(null);
  const colours = list(v.color);
  const toggleColour = (c: string) => f.set('color', (colours.includes(c)
    ? colours.filter((x) => x !== c) : [...colours, c]).join(','));

  return (
    <div className="page search-page">
      <header className="page-head">
        <h1>{t('search.title')}</h1>
        <button className="btn" onClick={result.reload}>{t('common.refresh')}</button>
      </header>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t('common.filters')}>
        <label className="inline-field"><span>{t('search.label')}</span>
          <DebouncedInput list="object-labels" value={v.label} placeholder="person"
            onChange={(x) => f.set('label', x)} />
          <datalist id="object-labels">{LABELS.map((x) => <option key={x} value={x} />)}</datalist>
        </label>
        <label className="inline-field"><span>{t('search.camera')}</span>
          <select value={list(v.camera).length > 1 ? '' : v.camera}
            onChange={(e) => f.set('camera', e.target.value)}>
            <option value="">{t('common.all')}</option>
            {cameras.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </select></label>
        <label className="inline-field"><span>{t('search.zone')}</span>
          <DebouncedInput value={v.zone} onChange={(x) => f.set('zone', x)} /></label>
        <label className="inline-field"><span>{t('search.line')}</span>
          <DebouncedInput value={v.line} onChange={(x) => f.set('line', x)} /></label>
        <label className="inline-field"><span>{t('common.from')}</span>
          <input type="datetime-local" value={v.from} onChange={(e) => f.set('from', e.target.value)} /></label>
        <label className="inline-field"><span>{t('common.to')}</span>
          <input type="datetime-local" value={v.to} onChange={(e) => f.set('to', e.target.value)} /></label>
        <label className="inline-field"><span>{t('search.minDwell')}</span>
          <DebouncedInput type="number" min={0} step={1} value={v.dwell}
            onChange={(x) => f.set('dwell', x)} /></label>
        <label className="inline-field"><span>{t('search.minScore')}</span>
          <DebouncedInput type="number" min={0} max={1} step={0.05} value={v.score}
            onChange={(x) => f.set('score', x)} /></label>
        <label className="inline-field"><span>{t('search.sort')}</span>
          <select value={v.sort || 'time'} onChange={(e) => f.set('sort', e.target.value === 'time'
            ? '' : e.target.value)}>
            <option value="time">{t('search.sortTime')}</option>
            <option value="score">{t('search.sortScore')}</option>
          </select></label>
        <fieldset className="colour-filter">
          <legend>{t('search.colour')}</legend>
          {COLOURS.map((c) => (
            <button key={c} type="button" className={`colour-chip c-${c}`}
              aria-pressed={colours.includes(c)} onClick={() => toggleColour(c)}
              title={t(`colours.${c}`)}>
              <span className="colour-dot" aria-hidden="true" />
              <span className="sr-only">{t(`colours.${c}`)}</span>
            </button>
          ))}
        </fieldset>
      </form>
      <ErrorNote error={result.error} />
      {result.loading && !result.data && <Loading />}
      {result.data && <p className="muted small" role="status">
        {t('search.found', { count: result.data.total })}</p>}
      {result.data && result.data.items.length === 0 && <Empty>{t('search.none')}</Empty>}
      <ul className="object-grid">
        {result.data?.items.map((o) => {
          const camera = nameOf(o.camera_id);
          const label = t(`objectLabels.${o.label}`, { defaultValue: o.label });
          return (
            <li key={o.id} data-object-id={o.id}>
              <button type="button" className="object-card" onClick={() => setOpen(o)}
                aria-label={t('search.open', { label, camera, time: fmt.dateTime(o.first_seen) })}>
                <ObjectSnapshot eventId={o.event_id} hasSnapshot={o.snapshot_url !== null}
                  box={boxOf(o)} alt={t('search.snapshotOf', { label, camera })} />
                <span className="object-info">
                  <strong>{label}</strong>
                  {o.color && <span className={`colour-dot c-${o.color}`}
                    title={t(`colours.${o.color}`, { defaultValue: o.color })} />}
                  <span>{camera}</span>
                  <span className="muted small">{fmt.dateTime(o.first_seen)}</span>
                  <span className="muted small">{Math.round(o.score * 100)} % ·
                    {' '}{t('search.seconds', { value: o.dwell_s.toFixed(1) })}</span>
                  {[...o.zones, ...o.lines].map((z) => <span key={z} className="tag">{z}</span>)}
                  {o.reviewed && <span className="tag">{t('review.reviewed')}</span>}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {result.data && <Pager offset={f.offset} limit={LIMIT} total={result.data.total}
        onChange={f.setOffset} />}
      {open && <ObjectViewer object={open} onClose={() => setOpen(null)} />}
    </div>
  );
}
