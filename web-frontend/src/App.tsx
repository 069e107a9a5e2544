/**
 * Routes of the console; everything below the login needs a session. Two layouts: the
 * console (header, alerts, navigation) and the kiosk (`/kiosk/...`, a layout's grid on the
 * whole screen for wall monitors). Administration pages are loaded when first opened.
 */

import { QueryClientProvider, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { createQueryClient } from './api/queryClient';
import { AlertsProvider } from './alerts/AlertsProvider';
import { EmergencyBanner } from './alerts/EmergencyBanner';
import { Toasts } from './alerts/Toasts';
import { LoginPage } from './auth/LoginPage';
import { SessionProvider, useSession } from './auth/session';
import { ErrorBoundary } from './components/ErrorBoundary';
import { Loading } from './components/Feedback';
import { AlertCenter } from './events/AlertCenter';
import { EventsPage } from './events/EventsPage';
import { KioskIndex, KioskLayout } from './kiosk/KioskView';
import { LiveView } from './live/LiveView';
import { PlaybackPage } from './playback/PlaybackPage';
import { AdminLayout } from './shell/AdminLayout';
import { firstAdminPath } from './shell/adminRoutes';
import { NotFound, RequirePermission } from './shell/Guards';
import { Header } from './shell/Header';
import { SocketProvider } from './socket/SocketProvider';

// Most operators never open these: they stay out of the first download.
const CamerasAdmin = lazy(() => import('./admin/CamerasAdmin')
  .then((m) => ({ default: m.CamerasAdmin })));
const UsersAdmin = lazy(() => import('./admin/UsersAdmin')
  .then((m) => ({ default: m.UsersAdmin })));
const RtmpKeys = lazy(() => import('./admin/RtmpKeys').then((m) => ({ default: m.RtmpKeys })));
const AuditLog = lazy(() => import('./admin/AuditLog').then((m) => ({ default: m.AuditLog })));
const SearchPage = lazy(() => import('./objects/SearchPage')
  .then((m) => ({ default: m.SearchPage })));
const ReviewPage = lazy(() => import('./objects/ReviewPage')
  .then((m) => ({ default: m.ReviewPage })));
const ExportsPage = lazy(() => import('./exports/ExportsPage')
  .then((m) => ({ default: m.ExportsPage })));
const WallsPage = lazy(() => import('./walls/WallsPage').then((m) => ({ default: m.WallsPage })));
const WallMonitor = lazy(() => import('./walls/WallMonitor')
  .then((m) => ({ default: m.WallMonitor })));

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
      <div className="app">
        <Header />
        <EmergencyBanner />
        <main className="content" id="main">
          <RouteBoundary><Suspense fallback={<Loading />}><Routes>
            <Route path="/" element={<Navigate to="/live" replace />} />
            <Route path="/live" element={<LiveView />} />
            <Route path="/playback" element={<RequirePermission permission="recordings:read">
              <PlaybackPage /></RequirePermission>} />
            <Route path="/events" element={<RequirePermission permission="events:read">
              <EventsPage /></RequirePermission>} />
            <Route path="/alerts" element={<RequirePermission permission="events:read">
              <AlertCenter /></RequirePermission>} />
            <Route path="/search" element={<RequirePermission permission="events:read">
              <SearchPage /></RequirePermission>} />
            <Route path="/review" element={<RequirePermission permission="events:read">
              <ReviewPage /></RequirePermission>} />
            <Route path="/exports" element={<RequirePermission permission="recordings:export">
              <ExportsPage /></RequirePermission>} />
            <Route path="/walls" element={<RequirePermission permission="walls:view">
              <WallsPage /></RequirePermission>} />
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
          </Routes></Suspense></RouteBoundary>
        </main>
        <Toasts />
      </div>
    </AlertsProvider>
  );
}

/** The wall layout: no header, no toasts; only the grid. */
function Kiosk() {
  return (
    <RouteBoundary><Routes>
      <Route index element={<KioskIndex />} />
      <Route path="layouts/:id" element={<KioskLayout />} />
      <Route path="*" element={<NotFound />} />
    </Routes></RouteBoundary>
  );
}

/** Signed in: one socket for the whole session, then the console or the kiosk layout. */
export function SignedIn() {
  const { can } = useSession();
  return (
    <SocketProvider enabled={can('events:read')}>
      <Routes>
        <Route path="/kiosk/*" element={<Kiosk />} />
        <Route path="*" element={<Console />} />
      </Routes>
    </SocketProvider>
  );
}

function Gate() {
  const { t } = useTranslation();
  const { status } = useSession();
  const qc = useQueryClient();
  // What one user loaded is never shown to the next one signing in on this screen.
  useEffect(() => {
    if (status === 'anonymous') qc.clear();
  }, [status, qc]);
  if (status === 'loading') return <div className="splash" role="status">{t('common.loading')}</div>;
  if (status === 'anonymous') return <LoginPage />;
  return <SignedIn />;
}

export function App() {
  const [queryClient] = useState(createQueryClient);
  return (
    <BrowserRouter>
      <QueryClientProvider client={queryClient}>
        <Routes>
          {/* A wall monitor signs in with its display key, not as a user. */}
          <Route path="/wall/:wallId/:monitorId" element={<RouteBoundary>
            <Suspense fallback={<Loading />}><WallMonitor /></Suspense></RouteBoundary>} />
          <Route path="*" element={<SessionProvider><Gate /></SessionProvider>} />
        </Routes>
      </QueryClientProvider>
    </BrowserRouter>
  );
}
