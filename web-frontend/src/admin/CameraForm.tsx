/** Add or edit a camera: RTSP URLs, credentials, ONVIF address, recording, retention, the
 * age at which recordings move to the object store and, for a camera that exists (its
 * analysis settings are edited with it), whether footage backfilled after an outage is
 * analysed (`analysis.backfill`). Editing a camera with an ONVIF address shows what its
 * device cannot do (OnvifWarnings.tsx: probed again when the form opens). */

import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { cameras as camerasApi } from '../api/resources';
import { errorMessage } from '../api/errors';
import type { Camera, CameraInput, RecordingMode } from '../api/types';
import { Dialog } from '../components/Dialog';
import { OnvifWarnings } from './OnvifWarnings';

interface FormProps {
  camera: Camera | null;
  onClose(): void;
  onSaved(c: Camera): void;
}

const MODES: RecordingMode[] = ['continuous', 'events', 'off'];

export function CameraForm({ camera, onClose, onSaved }: FormProps) {
  const { t } = useTranslation();
  const [f, setF] = useState({
    name: camera?.name ?? '',
    stream_url: camera?.stream_url ?? '',
    sub_stream_url: camera?.sub_stream_url ?? '',
    username: camera?.username ?? '',
    password: '',
    onvif_host: camera?.onvif_host ?? '',
    onvif_port: camera?.onvif_port ? String(camera.onvif_port) : '',
    has_ptz: camera?.has_ptz ?? false,
    enabled: camera?.enabled ?? true,
    recording_mode: (camera?.recording_mode ?? 'continuous') as RecordingMode,
    retention_days: String(camera?.retention_days ?? 30),
    tier_after_hours: camera?.tier_after_hours == null ? '' : String(camera.tier_after_hours),
    analyse_backfill: camera?.analysis.backfill ?? false,
  });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof typeof f>(k: K, v: (typeof f)[K]) => setF((x) => ({ ...x, [k]: v }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body: CameraInput = {
      name: f.name.trim(), stream_url: f.stream_url.trim(),
      sub_stream_url: f.sub_stream_url.trim() || null, username: f.username.trim() || null,
      onvif_host: f.onvif_host.trim() || null,
      onvif_port: f.onvif_port ? Number(f.onvif_port) : null, has_ptz: f.has_ptz,
      enabled: f.enabled, recording_mode: f.recording_mode,
      retention_days: Number(f.retention_days),
      // Empty: the recorder's default (RECORDING_TIER_*).
      tier_after_hours: f.tier_after_hours.trim() === '' ? null : Number(f.tier_after_hours),
    };
    // An empty password field keeps the stored one when editing.
    if (f.password) body.password = f.password;
    // Only a changed switch sends the analysis settings (zones edited meanwhile are kept).
    if (camera && f.analyse_backfill !== (camera.analysis.backfill ?? false)) {
      body.analysis = { ...camera.analysis, backfill: f.analyse_backfill };
    }
    try {
      const saved = camera ? await camerasApi.update(camera.id, body) : await camerasApi.create(body);
      onSaved(saved);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={camera ? t('cameras.edit', { name: camera.name }) : t('cameras.add')}
      onClose={onClose} wide>
      <form className="form-grid" onSubmit={submit}>
        <label className="field span2"><span>{t('cameras.name')}</span>
          <input required maxLength={128} value={f.name} onChange={(e) => set('name', e.target.value)} /></label>
        <label className="field span2"><span>{t('cameras.streamUrl')}</span>
          <input required placeholder="rtsp://192.0.2.10:554/stream1" value={f.stream_url}
            onChange={(e) => set('stream_url', e.target.value)} /></label>
        <label className="field span2"><span>{t('cameras.subStreamUrl')}</span>
          <input placeholder="rtsp://192.0.2.10:554/stream2" value={f.sub_stream_url}
            onChange={(e) => set('sub_stream_url', e.target.value)} /></label>
        <label className="field"><span>{t('cameras.username')}</span>
          <input autoComplete="off" value={f.username} onChange={(e) => set('username', e.target.value)} /></label>
        <label className="field"><span>{t('cameras.password')}</span>
          <input type="password" autoComplete="new-password" value={f.password}
            placeholder={camera?.has_password ? t('cameras.passwordKept') : ''}
            onChange={(e) => set('password', e.target.value)} /></label>
        <label className="field"><span>{t('cameras.onvifHost')}</span>
          <input value={f.onvif_host} onChange={(e) => set('onvif_host', e.target.value)} /></label>
        <label className="field"><span>{t('cameras.onvifPort')}</span>
          <input type="number" min={1} max={65535} value={f.onvif_port}
            onChange={(e) => set('onvif_port', e.target.value)} /></label>
        {camera?.onvif_host && <OnvifWarnings cameraId={camera.id} />}
        <label className="field"><span>{t('cameras.recordingMode')}</span>
          <select value={f.recording_mode} onChange={(e) => set('recording_mode',
            e.target.value as RecordingMode)}>
            {MODES.map((m) => <option key={m} value={m}>{t(`recordingMode.${m}`)}</option>)}
          </select></label>
        <label className="field"><span>{t('cameras.retentionDays')}</span>
          <input type="number" min={1} max={3650} required value={f.retention_days}
            onChange={(e) => set('retention_days', e.target.value)} /></label>
        <label className="field"><span>{t('cameras.tierAfterHours')}</span>
          <input type="number" min={0} max={87600} step="any" value={f.tier_after_hours}
            placeholder={t('cameras.tierDefault')}
            onChange={(e) => set('tier_after_hours', e.target.value)} /></label>
        <label className="inline-check"><input type="checkbox" checked={f.has_ptz}
          onChange={(e) => set('has_ptz', e.target.checked)} /> {t('cameras.hasPtz')}</label>
        <label className="inline-check"><input type="checkbox" checked={f.enabled}
          onChange={(e) => set('enabled', e.target.checked)} /> {t('cameras.enabled')}</label>
        {camera && <div className="span2">
          <label className="inline-check"><input type="checkbox" checked={f.analyse_backfill}
            onChange={(e) => set('analyse_backfill', e.target.checked)} /> {t('cameras.analyseBackfill')}</label>
          <p className="hint">{t('cameras.analyseBackfillHint')}</p>
        </div>}
        {error && <p className="error span2" role="alert">{error}</p>}
        <div className="actions span2">
          <button type="button" className="btn" onClick={onClose}>{t('common.cancel')}</button>
          <button type="submit" className="btn primary" disabled={busy}>{t('common.save')}</button>
        </div>
      </form>
    </Dialog>
  );
}
