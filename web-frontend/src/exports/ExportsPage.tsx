/**
 * Evidence exports: create one (cameras and a time range, or the events selected on the
 * Events page, `?events=1,2`), follow its progress (socket `export` frames), download the
 * signed bundle, hold or delete it; the site's signing key with its fingerprint; verify a
 * bundle someone hands back (in the browser, else on the server).
 */

import { useMutation, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { useSession } from '../auth/session';
import { useCameras } from '../cameras/useCameras';
import { ConfirmButton, Empty, ErrorNote, Loading, Pager } from '../components/Feedback';
import { useApiQuery } from '../components/useApiQuery';
import { fromLocalInput } from '../events/time';
import { HoldButton } from '../holds/HoldButton';
import { useFormat } from '../i18n/format';
import { useSocketMessage } from '../socket/SocketProvider';
import type { ExportFrame } from '../socket/messages';
import { holdKeys, holdsApi } from '../holds/api';
import { exportKeys, exportsApi, groupFingerprint, type ExportJob, type ExportList } from './api';
import { VerifyPanel } from './VerifyPanel';

const LIMIT = 20;

/** Apply a progress frame to every cached page of the list (done/failed reload it). */
export function applyFrame(qc: QueryClient, frame: ExportFrame): void {
  if (frame.state === 'done' || frame.state === 'failed') {
    void qc.invalidateQueries({ queryKey: exportKeys.all });
    return;
  }
  qc.setQueriesData<ExportList>({ queryKey: ['exports', 'list'] }, (page) => page && {
    ...page,
    items: page.items.map((e) => (e.id === frame.export_id ? { ...e,
      state: 'running', progress: Number(frame.progress ?? e.progress),
      bytes_done: Number(frame.bytes_done ?? e.bytes_done),
      bytes_total: Number(frame.bytes_total ?? e.bytes_total) } : e)),
  });
}

function saveBlob(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function NewExport() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const { cameras } = useCameras();
  const [params, setParams] = useSearchParams();
  const events = (params.get('events') ?? '').split(',').map(Number).filter((n) => n > 0);
  const [picked, setPicked] = useState<number[]>(() => (params.get('camera')
    ? [Number(params.get('camera'))] : []));
  const [from, setFrom] = useState(params.get('from') ?? '');
  const [to, setTo] = useState(params.get('to') ?? '');
  const [name, setName] = useState('');
  const [reason, setReason] = useState('');
  const [pad, setPad] = useState(10);
  const create = useMutation({
    mutationFn: () => exportsApi.create(events.length
      ? { name, reason, events, pre_s: pad, post_s: pad }
      : { name, reason, cameras: picked, start: fromLocalInput(from), end: fromLocalInput(to),
        pre_s: 0, post_s: 0 }),
    onSuccess: async () => {
      setName('');
      setReason('');
      if (events.length) setParams((p) => { p.delete('events'); return p; });
      await qc.invalidateQueries({ queryKey: exportKeys.all });
    },
  });
  const ready = name.trim() && reason.trim()
    && (events.length > 0 || (picked.length > 0 && from && to));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (ready) create.mutate();
  };
  const toggle = (id: number) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id)
    : [...p, id]));
  const start = fromLocalInput(from);
  const end = fromLocalInput(to);
  return (
    <section className="card" aria-labelledby="new-export">
      <h2 id="new-export">{t('exports.new')}</h2>
      <form className="form-grid" onSubmit={submit}>
        {events.length > 0 ? (
          <>
            <p className="span2">{t('exports.fromEvents', { count: events.length })}</p>
            <label className="field"><span>{t('exports.padding')}</span>
              <input type="number" min={0} max={600} value={pad}
                onChange={(e) => setPad(Number(e.target.value))} /></label>
          </>
        ) : (
          <>
            <fieldset className="field span2"><legend>{t('exports.cameras')}</legend>
              {cameras.map((c) => (
                <label key={c.id} className="check"><input type="checkbox"
                  checked={picked.includes(c.id)} onChange={() => toggle(c.id)} /> {c.name}</label>
              ))}
            </fieldset>
            <label className="field"><span>{t('common.from')}</span>
              <input type="datetime-local" step={1} required value={from}
                onChange={(e) => setFrom(e.target.value)} /></label>
            <label className="field"><span>{t('common.to')}</span>
              <input type="datetime-local" step={1} required value={to}
                onChange={(e) => setTo(e.target.value)} /></label>
          </>
        )}
        <label className="field"><span>{t('exports.name')}</span>
          <input required maxLength={128} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="field"><span>{t('exports.reason')}</span>
          <input required maxLength={1024} value={reason}
            onChange={(e) => setReason(e.target.value)} /></label>
        <ErrorNote error={create.error} />
        <div className="actions span2">
          <button type="submit" className="btn primary" disabled={!ready || create.isPending}>
            {t('exports.create')}</button>
          {events.length === 0 && picked.length === 1 && start && end && (
            <HoldButton label={t('holds.holdRange')} target={{ kind: 'range',
              camera_id: picked[0] ?? null, start, end }} />
          )}
        </div>
      </form>
    </section>
  );
}

function ExportRow({ job }: { job: ExportJob }) {
  const { t } = useTranslation();
  const fmt = useFormat();
  const qc = useQueryClient();
  const holds = useApiQuery(holdKeys.list({ export_id: job.id }),
    (signal) => holdsApi.list({ active: true, export_id: job.id, limit: 1 }, signal),
    { enabled: job.held });
  const [error, setError] = useState<unknown>(null);
  const download = async () => {
    setError(null);
    try {
      saveBlob(await exportsApi.download(job.id), `argus-export-${job.id}.zip`);
    } catch (err) {
      setError(err);
    }
  };
  const remove = async () => {
    setError(null);
    try {
      await exportsApi.remove(job.id);
      await qc.invalidateQueries({ queryKey: exportKeys.all });
    } catch (err) {
      setError(err);
    }
  };
  const pct = Math.round(job.progress * 100);
  return (
    <tr data-export-id={job.id}>
      <td><strong>{job.name}</strong><div className="muted small">{job.reason}</div></td>
      <td>
        <span className={`state ${job.state}`}>{t(`exports.state_${job.state}`)}</span>
        {(job.state === 'running' || job.state === 'queued') && (
          <progress max={100} value={pct} aria-label={t('exports.progressOf', { name: job.name })}>
            {pct}%</progress>)}
        {job.error && <div className="error small">{job.error}</div>}
        {job.files.some((f) => (f.gaps ?? []).length > 0) && (
          <div className="muted small">{t('exports.hasGaps')}</div>)}
      </td>
      <td>{fmt.dateTime(Date.parse(job.range_start))} – {fmt.dateTime(Date.parse(job.range_end))}
        <div className="muted small">{t('exports.cameraCount', { count: new Set(job.items
          .map((i) => i.camera_id)).size })}</div></td>
      <td>{job.file_bytes ? `${(job.file_bytes / 1e6).toFixed(1)} MB` : '—'}</td>
      <td className="actions-cell">
        {job.state === 'done' && <button type="button" className="btn" onClick={() =>
          void download()}>{t('exports.download')}</button>}
        <HoldButton target={{ kind: 'export', export_id: job.id }}
          hold={job.held ? holds.data?.items[0] ?? null : null} />
        {!job.held && <ConfirmButton label={t('common.delete')}
          confirmLabel={t('exports.confirmDelete')} onConfirm={remove} />}
        <ErrorNote error={error} />
      </td>
    </tr>
  );
}

function PublicKeyCard() {
  const { t } = useTranslation();
  const key = useApiQuery(exportKeys.publicKey, (signal) => exportsApi.publicKey(signal));
  return (
    <section className="card" aria-labelledby="signing-key">
      <h2 id="signing-key">{t('exports.publicKey')}</h2>
      <ErrorNote error={key.error} />
      {key.data && (
        <>
          <p>{t('exports.fingerprint')}: <code data-testid="fingerprint">
            {groupFingerprint(key.data.fingerprint)}</code></p>
          <details><summary>{t('exports.showPem')}</summary>
            <pre className="pem">{key.data.public_key_pem}</pre></details>
          <p className="muted small">{t('exports.keyHint')}</p>
        </>
      )}
    </section>
  );
}

export function ExportsPage() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const { can } = useSession();
  const [offset, setOffset] = useState(0);
  const list = useApiQuery(exportKeys.list(offset),
    (signal) => exportsApi.list(offset, LIMIT, signal), { keepPrevious: true });
  useSocketMessage('export', (frame) => applyFrame(qc, frame));
  return (
    <div className="page">
      <header className="page-head">
        <h1>{t('exports.title')}</h1>
        <button className="btn" onClick={list.reload}>{t('common.refresh')}</button>
      </header>
      {can('recordings:export') && <NewExport />}
      <section className="card" aria-labelledby="export-list">
        <h2 id="export-list">{t('exports.list')}</h2>
        <ErrorNote error={list.error} />
        {list.loading && !list.data && <Loading />}
        {list.data && list.data.items.length === 0 && <Empty>{t('exports.none')}</Empty>}
        {list.data && list.data.items.length > 0 && (
          <table className="table">
            <thead><tr><th>{t('exports.name')}</th><th>{t('exports.state')}</th>
              <th>{t('exports.range')}</th><th>{t('exports.size')}</th>
              <th>{t('common.actions')}</th></tr></thead>
            <tbody>{list.data.items.map((job) => <ExportRow key={job.id} job={job} />)}</tbody>
          </table>
        )}
        {list.data && <Pager offset={offset} limit={LIMIT} total={list.data.total}
          onChange={setOffset} />}
      </section>
      <PublicKeyCard />
      <VerifyPanel />
    </div>
  );
}
