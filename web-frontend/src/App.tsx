/** Routes of the console; everything below the login needs a session. */

import { useTranslation } from 'react-i18next';
import type { ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { AuditLog } from './admin/AuditLog';
import { CamerasAdmin } from './admin/CamerasAdmin';
import { RtmpKeys } from './admin/RtmpKeys';
import { UsersAdmin } from './admin/UsersAdmin';
import { AlertsProvider } from './alerts/AlertsProvider';
import { EmergencyBanner } from './alerts/EmergencyBanner';
import { Toasts } from './alerts/Toasts';
import { LoginPage } from './auth/LoginPage';
import { SessionProvider, useSession } from './auth/session';
import { ErrorBoundary } from './components/ErrorBoundary';
import { AlertCenter } from './events/AlertCenter';
import { EventsPage } from './events/EventsPage';
import { CamerasProvider } from './live/cameras';
import { LiveView } from './live/LiveView';
import { PlaybackPage } from './playback/PlaybackPage';
import { AdminLayout } from './shell/AdminLayout';
import { firstAdminPath } from './shell/adminRoutes';
import { NotFound, RequirePermission } from './shell/Guards';
import { Header } from './shell/Header';

/** A page's render error shows Retry in place of the page; another route starts clean. */
function RouteBoundary({ children }: { children: ReactNode }) {
  const { pathname } = useLocation();
  return <ErrorBoundary resetKey={pathname}>{children}</ErrorBoundary>;
}

function Console() {
  const { can } = useSession();
  const admin = firstAdminPath(can);
  return (
    <AlertsProvider>
      <CamerasProvider>
        <div className="app">
          <Header />
          <EmergencyBanner />
          <main className="content" id="main">
            <RouteBoundary><Routes>
              <Route path="/" element={<Navigate to="/live" replace />} />
              <Route path="/live" element={<LiveView />} />
              <Route path="/playback" element={<RequirePermission permission="recordings:read">
                <PlaybackPage /></RequirePermission>} />
              <Route path="/events" element={<RequirePermission permission="events:read">
                <EventsPage /></RequirePermission>} />
              <Route path="/alerts" element={<RequirePermission permission="events:read">
                <AlertCenter /></RequirePermission>} />
              <Route path="/admin" element={<AdminLayout />}>
                <Route index element={admin ? <Navigate to={admin} replace />
                  : <RequirePermission permission="users:manage"><span /></RequirePermission>} />
                <Route path="cameras" element={<RequirePermission permission="cameras:write">
                  <CamerasAdmin /></RequirePermission>} />
                <Route path="users" element={<RequirePermission permission="users:manage">
                  <UsersAdmin /></RequirePermission>} />
                <Route path="rtmp" element={<RequirePermission permission="rtmp:keys">
                  <RtmpKeys /></RequirePermission>} />
                <Route path="audit" element={<RequirePermission permission="audit:read">
                  <AuditLog /></RequirePermission>} />
              </Route>
              <Route path="*" element={<NotFound />} />
            </Routes></RouteBoundary>
          </main>
          <Toasts />
        </div>
      </CamerasProvider>
    </AlertsProvider>
  );
}

function Gate() {
  const { t } = useTranslation();
  const { status } = useSession();
  if (status === 'loading') return <div className="splash" role="status">{t('common.loading')}</div>;
  if (status === 'anonymous') return <LoginPage />;
  return <Console />;
}

export function App() {
  return (
    <BrowserRouter>
      <SessionProvider>
        <Gate />
      </SessionProvider>
    </BrowserRouter>
  );
}
