import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useSession, type Permission } from '../auth/session';

/** A page only for holders of `permission`; others see why, not a broken page. */
export function RequirePermission({ permission, children }: { permission: Permission;
  children: ReactNode }) {
  const { can } = useSession();
  return can(permission) ? <>{children}</> : <Forbidden />;
}

export function Forbidden() {
  const { t } = useTranslation();
  return (
    <div className="page center" data-testid="forbidden">
      <h1>{t('shell.forbiddenTitle')}</h1>
      <p>{t('shell.forbidden')}</p>
      <Link className="btn" to="/live">{t('shell.backToLive')}</Link>
    </div>
  );
}

export function NotFound() {
  const { t } = useTranslation();
  return (
    <div className="page center">
      <h1>{t('shell.notFoundTitle')}</h1>
      <Link className="btn" to="/live">{t('shell.backToLive')}</Link>
    </div>
  );
}
