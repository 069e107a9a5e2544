// @vitest-environment jsdom
import { act, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyFrame, summaryFromRest, visibleEmergencies } from '../src/alerts/alertMerge';
import { AlertsProvider, useAlerts } from '../src/alerts/AlertsProvider';
import type { Alert } from '../src/api/types';
import type { AlertFrame } from '../src/socket/messages';
import { json } from './support/fakeManagement';
import { consoleHarness } from './support/renderConsole';

afterEach(() => vi.unstubAllGlobals());

const alert = (id: number, kind = 'motion'): Alert => ({ id, kind, severity: 'warning',
  state: 'open', camera_id: 1, event_id: null, title: `alert ${id}`, detail: '', payload: {},
  created_at: '2026-03-01T10:00:00Z', acked_at: null, acked_by: null, resolved_at: null });
const page = (items: Alert[], total = items.length) => ({ items, total, limit: 20, offset: 0 });
const frame = (alertId: number, kind = 'motion', state: AlertFrame['state'] = 'open'):
  AlertFrame => ({ type: `alert.${kind}`, id: `f${alertId}-${state}`, camera_id: 1,
  ts: '2026-03-01T10:00:01Z', alert_id: alertId, kind, severity: 'critical', state,
  title: `alert ${alertId}`, detail: '', event_id: null, payload: {} });

describe('alert merge (pure)', () => {
  const rest = summaryFromRest(page([alert(1)], 3), page([alert(2, 'rtmp.received')]));

  it('takes the count and the banner from REST', () => {
    expect(rest.openCount).toBe(3);
    expect(rest.emergencies.map((e) => e.alertId)).toEqual([2]);
  });

  it('counts a new open alert at once and raises an RTMP banner once per alert', () => {
    const s1 = applyFrame(rest, frame(5, 'rtmp.received'));
    expect(s1.openCount).toBe(4);
    expect(s1.emergencies.map((e) => e.alertId)).toEqual([5, 2]);
    const again = applyFrame(s1, frame(5, 'rtmp.received'));
    expect(again.emergencies.map((e) => e.alertId)).toEqual([5, 2]);
  });

  it('drops the banner of an RTMP alert acked elsewhere; other changes wait for REST', () => {
    const acked = applyFrame(rest, frame(2, 'rtmp.received', 'acked'));
    expect(acked.emergencies).toEqual([]);
    expect(acked.openCount).toBe(3);
    expect(applyFrame(rest, frame(1, 'motion', 'resolved'))).toBe(rest);
  });

  it('hides what the operator dismissed', () => {
    expect(visibleEmergencies(rest, new Set([2]))).toEqual([]);
    expect(visibleEmergencies(rest, new Set([9]))).toHaveLength(1);
  });
});

function Probe() {
  const { openCount, emergencies, toasts } = useAlerts();
  return <output data-testid="probe">{`${openCount}|${emergencies.map((e) => e.alertId)
    .join(',')}|${toasts.length}`}</output>;
}

describe('AlertsProvider', () => {
  it('shows frames at once and confirms a burst with one REST reload', async () => {
    const h = await consoleHarness();
    let open = [alert(1), alert(2)];
    h.server.route((req) => {
      if (req.path !== '/api/v1/alerts') return undefined;
      const rtmp = req.query.get('kind') === 'rtmp.received';
      const items = open.filter((a) => !rtmp || a.kind === 'rtmp.received');
      return json(page(items));
    });
    render(<AlertsProvider><Probe /></AlertsProvider>, { wrapper: h.wrapper });
    const probe = await screen.findByTestId('probe');
    await waitFor(() => expect(probe.textContent).toBe('2||0'));
    const restCalls = () => h.server.requests.filter((r) => r.path === '/api/v1/alerts').length;
    const before = restCalls();

    // REST will also know of alert 6, which no frame announced: its answer must win at the end.
    open = [...open, alert(3), alert(4), alert(5, 'rtmp.received'), alert(6)];
    await act(async () => {
      h.socket().receive(frame(3));
      h.socket().receive(frame(4));
      h.socket().receive(frame(5, 'rtmp.received'));
    });
    // From the frames, before the settle delay has passed.
    await waitFor(() => expect(probe.textContent).toBe('5|5|3'), { timeout: 300 });
    expect(restCalls()).toBe(before);
    // One reload (two requests: count and banner) for the burst, after it settles.
    await waitFor(() => expect(restCalls()).toBe(before + 2), { timeout: 2000 });
    await act(() => new Promise((r) => setTimeout(r, 600)));
    expect(restCalls()).toBe(before + 2);
    expect(probe.textContent).toBe('6|5|3');
  });
});
