import { useTranslation } from 'react-i18next';
import type { Badge } from '../video/playerMachine';

export function StatusBadge({ badge }: { badge: Badge }) {
  const { t } = useTranslation();
  return <span className={`badge badge-${badge}`} data-badge={badge}>{t(`badge.${badge}`)}</span>;
}

/** Camera status from management (online / offline / unknown) as a dot with a label. */
export function StatusDot({ status }: { status: string }) {
  const { t } = useTranslation();
  const known = status === 'online' || status === 'offline' ? status : 'unknown';
  return (
    <span className={`dot dot-${known}`} role="img" aria-label={t(`cameraStatus.${known}`)}
      title={t(`cameraStatus.${known}`)} />
  );
}
