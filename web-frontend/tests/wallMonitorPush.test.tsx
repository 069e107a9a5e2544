// @vitest-environment jsdom
import { QueryClientProvider } from '@tanstack/react-query';
import { act, render, waitFor } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../src/i18n';
import { createQueryClient } from '../src/api/queryClient';
import { WallMonitor } from '../src/walls/WallMonitor';
import { fakeManagement, json } from './support/fakeManagement';
import { FakeWebSocket } from './support/renderConsole';

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe('wall monitor page', () => {
  it('opens /ws/wall-display with its display token and re-reads at once on wall.changed',
    async () => {
      const server = fakeManagement();
      let source: 'empty' | 'camera' = 'empty';
      server.route((req) => {
        if (req.path === '/api/v1/wall-display/token') {
          return json({ access_token: 'd1', token_type: 'bearer', expires_in: 900,
            wall_id: 1, monitor_id: 2 });
        }
        if (req.path === '/api/v1/wall-display/state') {
          return json({ wall_id: 1, monitor_id: 2, wall_name: 'W', monitor_name: 'M',
            pushed_at: null, cameras: [],
            content: { grid: 1, cells: [null], tours: [], source: { kind: source } } });
        }
        return undefined;
      });
      vi.stubGlobal('fetch', server.fetch);
      const sockets: { url: string; protocols: string[]; ws: FakeWebSocket }[] = [];
      vi.stubGlobal('WebSocket', function Fake(url: string, protocols: string[]) {
        const ws = new FakeWebSocket();
        sockets.push({ url, protocols, ws });
        return ws;
      });
      localStorage.setItem('argus.wall.1.2', 'wdk_secret');
      const qc = createQueryClient();
      const { container } = render(
        <MemoryRouter initialEntries={['/wall/1/2']}>
          <QueryClientProvider client={qc}>
            <Routes><Route path="/wall/:wallId/:monitorId" element={<WallMonitor />} /></Routes>
          </QueryClientProvider>
        </MemoryRouter>);
      const screen = () => container.querySelector('.wall-monitor');
      await waitFor(() => expect(sockets).toHaveLength(1));
      expect(sockets[0]?.url).toMatch(/\/ws\/wall-display$/);
      expect(sockets[0]?.protocols).toEqual(['bearer', 'd1']);
      const ws = sockets[0]!.ws;
      await act(async () => ws.receive({ type: 'ready', ping_interval_s: 30 }));
      await waitFor(() => expect(screen()?.getAttribute('data-push')).toBe('open'));
      const reads = () => server.requests.filter((r) => r.path === '/api/v1/wall-display/state')
        .length;
      await waitFor(() => expect(screen()?.getAttribute('data-source-kind')).toBe('empty'));
      const before = reads();
      source = 'camera';
      await act(async () => ws.receive({ type: 'wall.changed', wall_id: 1, monitor_id: 2 }));
      // Long before the 15 s poll of an open socket.
      await waitFor(() => expect(screen()?.getAttribute('data-source-kind')).toBe('camera'),
        { timeout: 1000 });
      expect(reads()).toBe(before + 1);
      expect(screen()?.getAttribute('data-push-changes')).toBe('1');
      await act(async () => ws.receive({ type: 'ping' }));
      expect(ws.sent).toContain('{"type":"pong"}');
    });
});
