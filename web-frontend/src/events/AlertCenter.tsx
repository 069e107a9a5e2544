/** Every alert with its state; acknowledge open ones. */

import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { alerts as alertsApi } from '../api/resources';
import { errorMessage } from '../api/errors';
import type { AlertState } from '../api/types';
import { alertTitle } from '../alerts/alertText';
import { useAlerts } from '../alerts/AlertsProvider';
import { useSession } from '../auth/session';
import { Empty, ErrorNote, Loading, Pager } from '../components/Feedback';
import { keys } from '../api/queryClient';
import { useApiQuery } from '../components/useApiQuery';
import { useFormat } from '../i18n/format';
import { useCameras } from '../cameras/useCameras';

const LIMIT = 50;

export function AlertCenter() {
  const { t } = useTranslation();
  const fmt = useFormat();
  const { can } = useSession();
  const { cameras, nameOf } = useCameras();
  const { refreshCount, sound, setSound } = useAlerts();
  const [state, setState] = useState<AlertState | ''>('open');
  const [severity, setSeverity] = useState('');
  const [camera, setCamera] = useState('');
  const [offset, setOffset] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const q = { state: state || null, severity: severity || null,
    camera_id: camera ? Number(camera) : null, limit: LIMIT, offset };
  // Reloaded once per burst of live alerts (socket/querySync.ts invalidates ['alerts']).
  const list = useApiQuery(keys.alertList(q), (signal) => alertsApi.list(q, signal),
    { keepPrevious: true });

  const ack = async (id: number) => {
    setError(null);
    try {
      await alertsApi.ack(id);
      list.reload();
      refreshCount();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <div className="page">
      <header className="page-head">
        <h1>{t('alerts.title')}</h1>
        <label className="inline-check"><input type="checkbox" checked={sound}
          onChange={(e) => setSound(e.target.checked)} /> {t('emergency.sound')}</label>
      </header>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t('common.filters')}>
        <label className="inline-field"><span>{t('alerts.state')}</span>
          <select value={state} onChange={(e) => { setState(e.target.value as AlertState | '');
            setOffset(0); }}>
            <option value="">{t('common.all')}</option>
            {(['open', 'acked', 'resolved'] as const).map((s) => (
              <option key={s} value={s}>{t(`alertState.${s}`)}</option>))}
          </select></label>
        <label className="inline-field"><span>{t('alerts.severity')}</span>
          <select value={severity} onChange={(e) => { setSeverity(e.target.value); setOffset(0); }}>
            <option value="">{t('common.all')}</option>
            {(['critical', 'warning', 'info'] as const).map((s) => (
              <option key={s} value={s}>{t(`severity.${s}`)}</option>))}
          </select></label>
        <label className="inline-field"><span>{t('events.camera')}</span>
          <select value={camera} onChange={(e) => { setCamera(e.target.value); setOffset(0); }}>
            <option value="">{t('common.all')}</option>
            {cameras.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </select></label>
      </form>
      <ErrorNote error={list.error} />
      {error && <p className="error" role="alert">{error}</p>}
      {list.loading && !list.data && <Loading />}
      {list.data && list.data.items.length === 0 && <Empty>{t('alerts.none')}</Empty>}
      {list.data && list.data.items.length > 0 && (
        <table className="table">
          <thead><tr>
            <th scope="col">{t('common.time')}</th><th scope="col">{t('alerts.severity')}</th>
            <th scope="col">{t('alerts.alert')}</th><th scope="col">{t('events.camera')}</th>
            <th scope="col">{t('alerts.state')}</th><th scope="col"><span className="sr-only">
              {t('common.actions')}</span></th>
          </tr></thead>
          <tbody>
            {list.data.items.map((a) => (
              <tr key={a.id} data-alert-id={a.id} data-kind={a.kind}>
                <td>{fmt.dateTime(a.created_at)}</td>
                <td><span className={`tag sev-${a.severity}`}>{t(`severity.${a.severity}`)}</span></td>
                <td>{alertTitle(t, a.kind, a.title, a.camera_id ? nameOf(a.camera_id) : undefined)}
                  {a.detail && <div className="muted small">{a.detail}</div>}</td>
                <td>{a.camera_id ? <Link to={`/live?camera=${a.camera_id}`}>{nameOf(a.camera_id)}</Link>
                  : t('events.system')}</td>
                <td>{t(`alertState.${a.state}`)}</td>
                <td>{a.state === 'open' && can('events:ack') && (
                  <button className="btn small" onClick={() => void ack(a.id)}>{t('alerts.ack')}</button>
                )}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data && <Pager offset={offset} limit={LIMIT} total={list.data.total} onChange={setOffset} />}
    </div>
  );
}
