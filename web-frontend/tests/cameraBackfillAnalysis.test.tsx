// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CameraForm } from '../src/admin/CameraForm';
import type { Camera } from '../src/api/types';
import { camera, json } from './support/fakeManagement';
import { consoleHarness } from './support/renderConsole';

const LABEL = 'Analyse footage restored after an outage';

afterEach(() => vi.unstubAllGlobals());

beforeAll(() => {
  const proto = HTMLDialogElement.prototype as unknown as Record<string, unknown>;
  proto.showModal ??= function (this: HTMLDialogElement) { this.setAttribute('open', ''); };
  proto.close ??= function (this: HTMLDialogElement) { this.removeAttribute('open'); };
});

/** Opens the form of `cam`, lets `act` change it, saves; returns the PATCH body. */
async function save(cam: Camera, act: () => void): Promise<Record<string, unknown>> {
  const h = await consoleHarness();
  const bodies: Record<string, unknown>[] = [];
  h.server.route((req) => {
    if (req.path !== `/api/v1/cameras/${cam.id}` || req.method !== 'PATCH') return undefined;
    bodies.push(req.body as Record<string, unknown>);
    return json({ ...cam, ...(req.body as object) });
  });
  const saved = vi.fn();
  const view = render(<CameraForm camera={cam} onClose={() => undefined} onSaved={saved} />,
    { wrapper: h.wrapper });
  await screen.findByLabelText(LABEL);
  act();
  fireEvent.click(screen.getByRole('button', { name: 'Save' }));
  await waitFor(() => expect(saved).toHaveBeenCalledTimes(1));
  view.unmount();
  expect(bodies).toHaveLength(1);
  return bodies[0] ?? {};
}

describe('camera form: analysis of backfilled footage', () => {
  it('shows the camera’s setting and turns it on, keeping the other analysis settings', async () => {
    const base = camera(4);
    const cam = camera(4, { analysis: { ...base.analysis, enabled: true,
      zones: [[[0, 0], [1, 0], [1, 1]]], backfill: false } });
    const body = await save(cam, () => {
      const box = screen.getByLabelText(LABEL) as HTMLInputElement;
      expect(box.checked).toBe(false);
      fireEvent.click(box);
    });
    expect(body.analysis).toEqual({ ...cam.analysis, backfill: true });
  });

  it('turns it off', async () => {
    const base = camera(5);
    const cam = camera(5, { analysis: { ...base.analysis, backfill: true } });
    const body = await save(cam, () => {
      const box = screen.getByLabelText(LABEL) as HTMLInputElement;
      expect(box.checked).toBe(true);
      fireEvent.click(box);
    });
    expect(body.analysis).toMatchObject({ backfill: false });
  });

  it('sends no analysis settings when the switch was left alone', async () => {
    const body = await save(camera(6), () => fireEvent.change(
      screen.getByLabelText('Retention (days)'), { target: { value: '12' } }));
    expect(body).toMatchObject({ retention_days: 12 });
    expect(body).not.toHaveProperty('analysis');
  });

  it('is not offered for a new camera', async () => {
    const h = await consoleHarness();
    const view = render(<CameraForm camera={null} onClose={() => undefined} onSaved={vi.fn()} />,
      { wrapper: h.wrapper });
    await screen.findByLabelText('Retention (days)');
    expect(screen.queryByLabelText(LABEL)).toBeNull();
    view.unmount();
  });
});
