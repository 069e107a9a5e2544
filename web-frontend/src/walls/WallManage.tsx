/** Managing walls (`walls:manage`): walls and monitors, a monitor's alarm kinds and its
 * display key (shown once, with the monitor's address). */

import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ConfirmButton, ErrorNote } from '../components/Feedback';
import { walls as wallsApi, type Credential, type Monitor, type Wall } from './api';

function useAction(onChange: () => void) {
  const [error, setError] = useState<unknown>(null);
  const run = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      onChange();
    } catch (err) {
      setError(err);
    }
  };
  return { error, run };
}

/** Without `wall`: a new wall. With it: a new monitor of it, and deleting it. */
export function WallManage({ wall, onChange }: { wall?: Wall; onChange(): void }) {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const { error, run } = useAction(onChange);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return;
    void run(async () => {
      if (wall) await wallsApi.addMonitor(wall.id, name.trim(), wall.monitors.length);
      else await wallsApi.create(name.trim());
      setName('');
    });
  };
  return (
    <form className="row wall-manage" onSubmit={submit}>
      <input value={name} onChange={(e) => setName(e.target.value)} maxLength={128}
        aria-label={wall ? t('walls.newMonitor') : t('walls.newWall')}
        placeholder={wall ? t('walls.newMonitor') : t('walls.newWall')} />
      <button type="submit" className="btn small">{wall ? t('walls.addMonitor')
        : t('walls.addWall')}</button>
      {wall && <ConfirmButton label={t('walls.deleteWall')} confirmLabel={t('common.confirm')}
        className="btn ghost small danger" onConfirm={() => run(() => wallsApi.remove(wall.id))} />}
      <ErrorNote error={error} />
    </form>
  );
}

export function MonitorManage({ monitor: m, onChange }: { monitor: Monitor;
  onChange(): void }) {
  const { t } = useTranslation();
  const { error, run } = useAction(onChange);
  const [kinds, setKinds] = useState(m.alarm_kinds.join(', '));
  const [issued, setIssued] = useState<Credential | null>(null);
  const url = issued ? `${window.location.origin}${issued.display_url}` : '';
  return (
    <div className="monitor-manage" onClick={(e) => e.stopPropagation()}>
      <form className="row" onSubmit={(e) => {
        e.preventDefault();
        const list = kinds.split(',').map((k) => k.trim()).filter(Boolean);
        void run(() => wallsApi.updateMonitor(m, { alarm_kinds: list }));
      }}>
        <input value={kinds} onChange={(e) => setKinds(e.target.value)}
          aria-label={t('walls.alarmKinds')} placeholder={t('walls.alarmKindsHint')} />
        <button type="submit" className="btn ghost small">{t('common.save')}</button>
      </form>
      <div className="row">
        <button type="button" className="btn ghost small" onClick={() => void run(async () => {
          setIssued(await wallsApi.issueCredential(m)); })}>
          {m.has_credential ? t('walls.newKey') : t('walls.issueKey')}</button>
        {m.has_credential && <ConfirmButton label={t('walls.revokeKey')}
          confirmLabel={t('common.confirm')} className="btn ghost small danger"
          onConfirm={() => run(() => wallsApi.revokeCredential(m))} />}
        <ConfirmButton label={t('common.delete')} confirmLabel={t('common.confirm')}
          className="btn ghost small danger" onConfirm={() => run(() => wallsApi.removeMonitor(m))} />
      </div>
      {issued && (
        <p className="key-once" role="status">{t('walls.keyOnce')}{' '}
          <input readOnly value={url} aria-label={t('walls.displayUrl')}
            onFocus={(e) => e.target.select()} data-testid="display-url" /></p>
      )}
      <ErrorNote error={error} />
    </div>
  );
}
