import { useTranslation } from 'react-i18next';
import { useCameras } from '../cameras/useCameras';
import { IconClose } from '../components/icons';
import { alertTitle } from './alertText';
import { useAlerts } from './AlertsProvider';

/** Alert toasts in a polite live region (critical ones are announced assertively). */
export function Toasts() {
  const { t } = useTranslation();
  const { toasts, dismissToast } = useAlerts();
  const { nameOf } = useCameras();
  return (
    <section className="toasts" aria-label={t('alerts.notifications')}>
      {toasts.map(({ key, alert }) => (
        <div key={key} className={`toast ${alert.severity}`} data-kind={alert.kind}
          role={alert.severity === 'critical' ? 'alert' : 'status'}>
          <div className="toast-body">
            <strong>{alertTitle(t, alert.kind, alert.title,
              alert.camera_id ? nameOf(alert.camera_id) : undefined)}</strong>
            {alert.detail && <span className="muted">{alert.detail}</span>}
          </div>
          <button type="button" className="icon-btn" aria-label={t('common.dismiss')}
            onClick={() => dismissToast(key)}><IconClose size={16} /></button>
        </div>
      ))}
    </section>
  );
}
