/** Top bar: navigation (only what the role may use), alert bell, language, account menu. */

import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, NavLink } from 'react-router-dom';
import { useAlerts } from '../alerts/AlertsProvider';
import { ChangePasswordDialog } from '../auth/ChangePasswordDialog';
import { useMe, useSession } from '../auth/session';
import { IconBell, IconCheck, IconExport, IconGrid, IconList, IconPlayback, IconSearch,
  IconSettings, IconUser, Logo } from '../components/icons';
import { LanguageSwitch } from '../components/LanguageSwitch';
import { firstAdminPath } from './adminRoutes';

export function Header() {
  const { t } = useTranslation();
  const me = useMe();
  const { can, logout } = useSession();
  const { openCount, status } = useAlerts();
  const [menu, setMenu] = useState(false);
  const [password, setPassword] = useState(false);
  const admin = firstAdminPath(can);

  return (
    <header className="topbar">
      <Link to="/live" className="brand" aria-label="ARGUS"><Logo /> <span>ARGUS</span></Link>
      <nav className="mainnav" aria-label={t('shell.navigation')}>
        <NavLink to="/live"><IconGrid /> <span>{t('nav.live')}</span></NavLink>
        {can('recordings:read') && (
          <NavLink to="/playback"><IconPlayback /> <span>{t('nav.playback')}</span></NavLink>)}
        {can('events:read') && <NavLink to="/events"><IconList /> <span>{t('nav.events')}</span></NavLink>}
        {can('events:read') && <NavLink to="/search"><IconSearch /> <span>{t('nav.search')}</span></NavLink>}
        {can('events:read') && <NavLink to="/review"><IconCheck /> <span>{t('nav.review')}</span></NavLink>}
        {can('recordings:export') && (
          <NavLink to="/exports"><IconExport /> <span>{t('nav.exports')}</span></NavLink>)}
        {can('walls:view') && <NavLink to="/walls"><IconGrid /> <span>{t('nav.walls')}</span></NavLink>}
        {admin && <NavLink to={admin} className={({ isActive }) => (isActive
          || location.pathname.startsWith('/admin') ? 'active' : '')}>
          <IconSettings /> <span>{t('nav.admin')}</span></NavLink>}
      </nav>
      <div className="topbar-right">
        {can('events:read') && (
          <Link to="/alerts" className="bell" aria-label={t('alerts.bell', { count: openCount })}
            title={status === 'open' ? t('alerts.connected') : t('alerts.disconnected')}>
            <IconBell />
            {openCount > 0 && <span className="count" data-testid="alert-count">{openCount > 99 ? '99+' : openCount}</span>}
            <span className={`ws-dot ${status}`} aria-hidden="true" />
          </Link>
        )}
        <LanguageSwitch />
        <div className="menu">
          <button type="button" className="btn ghost icon-text" aria-haspopup="menu"
            aria-expanded={menu} onClick={() => setMenu(!menu)} data-testid="user-menu">
            <IconUser /> <span className="username">{me.username}</span></button>
          {menu && (
            <div className="menu-pop" role="menu" onKeyDown={(e) => e.key === 'Escape' && setMenu(false)}>
              <p className="muted small">{me.roles.map((r) => t(`roles.${r}`, { defaultValue: r })).join(', ')}</p>
              <button role="menuitem" type="button" autoFocus onClick={() => { setMenu(false);
                setPassword(true); }}>{t('password.title')}</button>
              <button role="menuitem" type="button" onClick={() => void logout()}>{t('shell.logout')}</button>
            </div>
          )}
        </div>
      </div>
      {password && <ChangePasswordDialog onClose={() => setPassword(false)} />}
    </header>
  );
}
