import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { alerts as alertsApi } from '../api/resources';
import { errorMessage } from '../api/errors';
import { useSession } from '../auth/session';
import { IconSiren } from '../components/icons';
import { useCameras } from '../cameras/useCameras';
import { useFormat } from '../i18n/format';
import { useAlerts, type Emergency } from './AlertsProvider';

/** Incoming RTMP pushes (phones, body cams): impossible to miss, one line each. */
export function EmergencyBanner() {
  const { t } = useTranslation();
  const { emergencies, dismissEmergency, sound, setSound, refreshCount } = useAlerts();
  const { can } = useSession();
  const { nameOf } = useCameras();
  const fmt = useFormat();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  if (emergencies.length === 0) return null;

  const ack = async (e: Emergency) => {
    if (e.alertId === null) return dismissEmergency(e);
    try {
      await alertsApi.ack(e.alertId);
      dismissEmergency(e);
      refreshCount();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <section className="emergency" role="alert" aria-label={t('emergency.label')}>
      {emergencies.map((e) => (
        <div className="emergency-row" key={`${e.alertId}-${e.ts}`}>
          <IconSiren size={22} />
          <div className="grow">
            <strong>{t('emergency.title', { camera: e.cameraId ? nameOf(e.cameraId) : '—' })}</strong>
            <span> · {fmt.time(e.ts, true)}</span>
            {e.detail && <span className="muted"> · {e.detail}</span>}
          </div>
          {e.cameraId !== null && (
            <button className="btn light" onClick={() => navigate(`/live?camera=${e.cameraId}`)}>
              {t('emergency.view')}</button>
          )}
          {can('events:ack') && e.alertId !== null && (
            <button className="btn light" onClick={() => void ack(e)}>{t('alerts.ack')}</button>
          )}
          <button className="btn light" onClick={() => dismissEmergency(e)}>
            {t('common.dismiss')}</button>
        </div>
      ))}
      <label className="emergency-sound">
        <input type="checkbox" checked={sound} onChange={(ev) => setSound(ev.target.checked)} />
        {t('emergency.sound')}
      </label>
      {error && <p className="error">{error}</p>}
    </section>
  );
}
