/** Camera administration: list, add (RTSP or ONVIF), edit, delete, motion zones, object zones and lines. */

import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { cameras as camerasApi } from '../api/resources';
import { errorMessage } from '../api/errors';
import type { Camera } from '../api/types';
import { ConfirmButton, Empty, ErrorNote, Loading } from '../components/Feedback';
import { useFormat } from '../i18n/format';
import { useCameras } from '../cameras/useCameras';
import { StatusDot } from '../live/StatusBadge';
import { CameraForm } from './CameraForm';
import { MotionZoneEditor } from './MotionZoneEditor';
import { ObjectRulesEditor } from './ObjectRulesEditor';
import { OnvifDialog } from './OnvifDialog';

type Editing = { kind: 'form'; camera: Camera | null } | { kind: 'zones'; camera: Camera }
  | { kind: 'objects'; camera: Camera } | { kind: 'onvif' };

export function CamerasAdmin() {
  const { t } = useTranslation();
  const fmt = useFormat();
  const { cameras, loading, error, reload } = useCameras();
  const [editing, setEditing] = useState<Editing | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const done = (text: string) => {
    setEditing(null);
    setMessage(text);
    reload();
  };

  const remove = async (c: Camera) => {
    try {
      await camerasApi.remove(c.id);
      done(t('cameras.deleted', { name: c.name }));
    } catch (err) {
      setMessage(errorMessage(err));
    }
  };

  return (
    <div className="page">
      <header className="page-head">
        <h1>{t('admin.cameras')}</h1>
        <div className="row">
          <button className="btn primary" onClick={() => setEditing({ kind: 'form', camera: null })}>
            {t('cameras.add')}</button>
          <button className="btn" onClick={() => setEditing({ kind: 'onvif' })}>{t('onvif.title')}</button>
        </div>
      </header>
      {message && <p className="notice" role="status">{message}</p>}
      <ErrorNote error={error} />
      {loading && cameras.length === 0 && <Loading />}
      {!loading && cameras.length === 0 && <Empty>{t('live.noCameras')}</Empty>}
      {cameras.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead><tr>
              <th scope="col">{t('cameras.name')}</th><th scope="col">{t('cameras.status')}</th>
              <th scope="col">{t('cameras.recordingMode')}</th>
              <th scope="col">{t('cameras.retentionDays')}</th><th scope="col">PTZ</th>
              <th scope="col">{t('cameras.lastSeen')}</th>
              <th scope="col"><span className="sr-only">{t('common.actions')}</span></th>
            </tr></thead>
            <tbody>
              {cameras.map((c) => (
                <tr key={c.id} data-camera-id={c.id}>
                  <td><strong>{c.name}</strong><div className="muted small mono">{c.stream_url}</div></td>
                  <td><StatusDot status={c.status} /> {t(`cameraStatus.${['online', 'offline']
                    .includes(c.status) ? c.status : 'unknown'}`)}{!c.enabled && ` · ${t('cameras.disabled')}`}</td>
                  <td>{t(`recordingMode.${c.recording_mode}`)}</td>
                  <td>{c.retention_days}</td>
                  <td>{c.has_ptz ? t('common.yes') : t('common.no')}</td>
                  <td>{fmt.dateTime(c.last_seen)}</td>
                  <td className="actions-cell">
                    <button className="btn small" onClick={() => setEditing({ kind: 'form', camera: c })}>
                      {t('common.edit')}</button>
                    <button className="btn small" onClick={() => setEditing({ kind: 'zones', camera: c })}>
                      {t('zones.button')}</button>
                    <button className="btn small" onClick={() => setEditing({ kind: 'objects', camera: c })}>
                      {t('objectRules.button')}</button>
                    <ConfirmButton className="btn small danger" label={t('common.delete')}
                      confirmLabel={t('cameras.confirmDelete', { name: c.name })}
                      onConfirm={() => remove(c)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editing?.kind === 'form' && (
        <CameraForm camera={editing.camera} onClose={() => setEditing(null)}
          onSaved={(c) => done(t('cameras.saved', { name: c.name }))} />
      )}
      {editing?.kind === 'zones' && (
        <MotionZoneEditor camera={editing.camera} onClose={() => setEditing(null)}
          onSaved={(c) => done(t('cameras.saved', { name: c.name }))} />
      )}
      {editing?.kind === 'objects' && (
        <ObjectRulesEditor camera={editing.camera} onClose={() => setEditing(null)}
          onSaved={(c) => done(t('cameras.saved', { name: c.name }))} />
      )}
      {editing?.kind === 'onvif' && (
        <OnvifDialog onClose={() => setEditing(null)} onAdded={() => done(t('onvif.added'))} />
      )}
    </div>
  );
}
