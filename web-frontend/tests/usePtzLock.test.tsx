// @vitest-environment jsdom
import { act, renderHook, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { usePtzLock } from '../src/ptz/usePtzLock';
import { json } from './support/fakeManagement';
import { consoleHarness } from './support/renderConsole';

afterEach(() => vi.unstubAllGlobals());

const LOCK = '/api/v1/cameras/5/ptz/lock';
const later = () => new Date(Date.now() + 60_000).toISOString();
const held = (userId: number, name: string) => ({ camera_id: 5, holder_user_id: userId,
  holder_username: name, priority: 10, acquired_at: new Date().toISOString(),
  expires_at: later(), yours: userId === 1 });
const frame = (reason: string, userId: number | null, name: string | null) => ({
  type: 'ptz.lock', camera_id: 5, ts: new Date().toISOString(), holder_user_id: userId,
  holder_username: name, priority: 10, expires_at: userId ? later() : null,
  previous_user_id: null, reason });

async function setup(initial: unknown) {
  const h = await consoleHarness();
  let current = initial;
  h.server.route((req) => {
    if (req.path !== LOCK) return undefined;
    if (req.method === 'GET') return json(current);
    if (req.method === 'POST') {
      if (current && (current as { holder_user_id: number }).holder_user_id !== 1
        && !(req.body as { takeover?: boolean }).takeover) {
        return json({ error: 'Conflict', detail: 'held by ann' }, 409);
      }
      current = held(1, 'op');
      return json(current);
    }
    current = null;
    return new Response(null, { status: 204 });
  });
  const view = renderHook(() => usePtzLock(5), { wrapper: h.wrapper });
  await waitFor(() => expect(view.result.current).not.toBeNull());
  return { h, view };
}

describe('usePtzLock', () => {
  it('shows the holder from REST, and a refused take as the server says it', async () => {
    const { view } = await setup(held(2, 'ann'));
    await waitFor(() => expect(view.result.current.lock?.holder_username).toBe('ann'));
    expect(view.result.current.mine).toBe(false);
    let ok = true;
    await act(async () => { ok = await view.result.current.acquire(); });
    expect(ok).toBe(false);
    expect(view.result.current.error).toBe('held by ann');
  });

  it('takes over, follows socket frames, and tells when control was taken away', async () => {
    const { h, view } = await setup(null);
    await waitFor(() => expect(h.server.requests.some((r) => r.path === LOCK)).toBe(true));
    await act(async () => { await view.result.current.acquire(true); });
    // The query cache tells its observers on the next tick.
    await waitFor(() => expect(view.result.current.mine).toBe(true));
    await act(async () => h.socket().receive(frame('takeover', 3, 'sam')));
    await waitFor(() => expect(view.result.current.lock?.holder_username).toBe('sam'));
    expect(view.result.current.mine).toBe(false);
    expect(view.result.current.takenBy).toBe('sam');
    await act(async () => h.socket().receive(frame('released', null, null)));
    await waitFor(() => expect(view.result.current.lock).toBeNull());
    // Frames for other cameras are not this panel's business.
    await act(async () => h.socket().receive({ ...frame('acquired', 4, 'kim'), camera_id: 6 }));
    await act(() => new Promise((r) => setTimeout(r, 20)));
    expect(view.result.current.lock).toBeNull();
  });

  it('gives the lock back when the panel closes while holding it', async () => {
    const { h, view } = await setup(null);
    await act(async () => { await view.result.current.acquire(); });
    // The query cache tells its observers on the next tick.
    await waitFor(() => expect(view.result.current.mine).toBe(true));
    view.unmount();
    await waitFor(() => expect(h.server.requests.some((r) => r.path === LOCK
      && r.method === 'DELETE')).toBe(true));
  });
});
