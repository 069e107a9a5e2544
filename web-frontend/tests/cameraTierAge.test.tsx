// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CameraForm } from '../src/admin/CameraForm';
import type { Camera } from '../src/api/types';
import { camera, json } from './support/fakeManagement';
import { consoleHarness } from './support/renderConsole';

afterEach(() => vi.unstubAllGlobals());

beforeAll(() => {
  const proto = HTMLDialogElement.prototype as unknown as Record<string, unknown>;
  proto.showModal ??= function (this: HTMLDialogElement) { this.setAttribute('open', ''); };
  proto.close ??= function (this: HTMLDialogElement) { this.removeAttribute('open'); };
});

async function save(cam: Camera, value: string): Promise<unknown> {
  const h = await consoleHarness();
  const bodies: unknown[] = [];
  h.server.route((req) => {
    if (req.path !== `/api/v1/cameras/${cam.id}` || req.method !== 'PATCH') return undefined;
    bodies.push(req.body);
    return json({ ...cam, ...(req.body as object) });
  });
  const saved = vi.fn();
  const view = render(<CameraForm camera={cam} onClose={() => undefined} onSaved={saved} />,
    { wrapper: h.wrapper });
  const field = await screen.findByLabelText('To object store after (hours)');
  fireEvent.change(field, { target: { value } });
  fireEvent.click(screen.getByRole('button', { name: 'Save' }));
  await waitFor(() => expect(saved).toHaveBeenCalledTimes(1));
  view.unmount();
  return bodies[0];
}

describe('camera form: tiering age', () => {
  it('shows the camera’s age and sends a new one', async () => {
    const cam = camera(4, { tier_after_hours: 6 });
    const h = await consoleHarness();
    const view = render(<CameraForm camera={cam} onClose={() => undefined} onSaved={vi.fn()} />,
      { wrapper: h.wrapper });
    expect((await screen.findByLabelText('To object store after (hours)') as HTMLInputElement)
      .value).toBe('6');
    view.unmount();
    expect(await save(cam, '2.5')).toMatchObject({ tier_after_hours: 2.5 });
  });

  it('sends null (the recorder’s default) when the field is emptied', async () => {
    expect(await save(camera(5, { tier_after_hours: 6 }), '')).toMatchObject(
      { tier_after_hours: null });
  });
});
