// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CameraList } from '../src/live/CameraList';
import { camera } from './support/fakeManagement';
import { consoleHarness } from './support/renderConsole';

afterEach(() => vi.unstubAllGlobals());

describe('camera list past one page', () => {
  it('lists and finds all 1,200 cameras with a server cap of 200 (422 above it)', async () => {
    const h = await consoleHarness({ maxPage: 200 });
    h.server.lists.set('/api/v1/cameras', Array.from({ length: 1200 }, (_, i) => camera(i + 1)));
    render(<CameraList inGrid={[]} onAdd={() => undefined} />, { wrapper: h.wrapper });
    const list = await screen.findByRole('complementary', { name: 'Cameras' });
    await waitFor(() => expect(list.querySelectorAll('[data-camera-id]')).toHaveLength(1200),
      { timeout: 20_000 });
    const asked = h.server.requests.filter((r) => r.path === '/api/v1/cameras');
    expect(asked.filter((r) => r.query.get('limit') === '500')).toHaveLength(1);
    expect(asked.filter((r) => r.query.get('limit') === '200')).toHaveLength(6);

    fireEvent.change(screen.getByRole('searchbox', { name: 'Search cameras' }),
      { target: { value: 'Camera 1200' } });
    const found = list.querySelectorAll('[data-camera-id]');
    expect([...found].map((el) => el.getAttribute('data-camera-id'))).toEqual(['1200']);
  }, 30_000);

  it('shows a camera going offline from the socket at once', async () => {
    const h = await consoleHarness();
    h.server.lists.set('/api/v1/cameras', [camera(1), camera(2)]);
    render(<CameraList inGrid={[]} onAdd={() => undefined} />, { wrapper: h.wrapper });
    await waitFor(() => expect(document.querySelectorAll('[data-camera-id]')).toHaveLength(2));
    expect(document.querySelector('[data-camera-id="2"] .dot-online')).not.toBeNull();
    const before = h.server.requests.length;
    h.socket().receive({ type: 'alert.camera.offline', kind: 'camera.offline', camera_id: 2,
      state: 'open', severity: 'critical', title: 'offline', alert_id: 7 });
    await waitFor(() => expect(document.querySelector('[data-camera-id="2"] .dot-offline'))
      .not.toBeNull());
    expect(document.querySelector('[data-camera-id="1"] .dot-online')).not.toBeNull();
    // The badge came from the frame, not from a reload of the list.
    expect(h.server.requests.slice(before).filter((r) => r.path === '/api/v1/cameras')).toHaveLength(0);
  });
});
