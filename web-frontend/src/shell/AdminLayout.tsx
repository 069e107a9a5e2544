import { useTranslation } from 'react-i18next';
import { NavLink, Outlet } from 'react-router-dom';
import { useSession } from '../auth/session';
import { ADMIN_PAGES } from './adminRoutes';

export function AdminLayout() {
  const { t } = useTranslation();
  const { can } = useSession();
  const pages = ADMIN_PAGES.filter((p) => can(p.permission));
  return (
    <div className="admin">
      {pages.length > 0 && (
        <nav className="subnav" aria-label={t('nav.admin')}>
          {pages.map((p) => <NavLink key={p.path} to={p.path}>{t(p.label)}</NavLink>)}
        </nav>
      )}
      <Outlet />
    </div>
  );
}
