/**
 * Render console components as the app does — query client, router, session, socket — over
 * a fake management API (`fakeManagement`) and a fake WebSocket the test drives.
 */

import { QueryClientProvider } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { MemoryRouter } from 'react-router-dom';
import { vi } from 'vitest';
import '../../src/i18n';
import { api } from '../../src/api/client';
import { createQueryClient } from '../../src/api/queryClient';
import type { Me } from '../../src/api/types';
import { SessionProvider, useSession } from '../../src/auth/session';
import { ConsoleSocket } from '../../src/socket/consoleSocket';
import { SocketProvider } from '../../src/socket/SocketProvider';
import { fakeManagement, json, type FakeManagement } from './fakeManagement';

export class FakeWebSocket {
  sent: string[] = [];
  closed = false;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  send(s: string) { this.sent.push(s); }
  close() { this.closed = true; }
  receive(frame: unknown) { this.onmessage?.({ data: JSON.stringify(frame) }); }
}

export const ME: Me = {
  id: 1, username: 'op', email: null, roles: ['admin'], camera_ids: [], all_cameras: true,
  permissions: ['cameras:read', 'cameras:write', 'ptz:control', 'recordings:read',
    'events:read', 'events:ack', 'layouts:write', 'users:manage', 'audit:read'],
};

export interface ConsoleHarness {
  server: FakeManagement;
  sockets: FakeWebSocket[];
  /** The open socket (after `ready`). */
  socket(): FakeWebSocket;
  wrapper(props: { children: ReactNode }): ReactNode;
}

function WhenSignedIn({ children }: { children: ReactNode }) {
  const { status } = useSession();
  return status === 'ready' ? <>{children}</> : null;
}

export async function consoleHarness(opts: { maxPage?: number; route?: string;
  me?: Partial<Me> } = {}): Promise<ConsoleHarness> {
  const server = fakeManagement({ maxPage: opts.maxPage ?? 500 });
  server.route((req) => (req.path === '/api/v1/users/me' ? json({ ...ME, ...opts.me })
    : undefined));
  vi.stubGlobal('fetch', server.fetch);
  await api.login('op', 'pw');
  const sockets: FakeWebSocket[] = [];
  const socket = new ConsoleSocket({
    url: 'ws://console.test/ws/alerts', token: async () => 'a1', refresh: async () => undefined,
    createSocket: () => {
      const ws = new FakeWebSocket();
      sockets.push(ws);
      return ws as unknown as WebSocket;
    },
  });
  const qc = createQueryClient();
  qc.setDefaultOptions({ queries: { ...qc.getDefaultOptions().queries, retry: false } });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <MemoryRouter initialEntries={[opts.route ?? '/']}>
      <QueryClientProvider client={qc}>
        <SessionProvider>
          <WhenSignedIn>
            <SocketProvider enabled socket={socket}>{children}</SocketProvider>
          </WhenSignedIn>
        </SessionProvider>
      </QueryClientProvider>
    </MemoryRouter>
  );
  return {
    server, sockets, wrapper,
    socket: () => {
      const ws = sockets[sockets.length - 1];
      if (!ws) throw new Error('no socket yet');
      return ws;
    },
  };
}
