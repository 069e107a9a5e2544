// @vitest-environment jsdom
import { render, screen } from '@testing-library/react';
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

const PROBE = {
  host: '192.0.2.10', port: 80,
  device: { manufacturer: 'Sim', model: 'S', firmware_version: '1', serial_number: '1',
    hardware_id: '1' },
  time_offset_s: 0, profiles: [], main_profile: null, sub_profile: null,
  ptz: { supported: false, profile: null, presets: [], presets_available: true },
  capabilities: { media2: true, ptz: false, events: false, imaging: true, time: true },
};

/** Opens the form of `cam` with the re-probe answering `answer`; the probe requests seen. */
async function open(cam: Camera, answer: () => Response) {
  const h = await consoleHarness();
  h.server.route((req) => (req.method === 'POST'
    && req.path === `/api/v1/cameras/${cam.id}/onvif/probe` ? answer() : undefined));
  render(<CameraForm camera={cam} onClose={() => undefined} onSaved={() => undefined} />,
    { wrapper: h.wrapper });
  await screen.findByRole('button', { name: 'Save' });
  return () => h.server.requests.filter((r) => r.path.endsWith('/onvif/probe'));
}

describe('camera form: ONVIF warnings', () => {
  it('probes the camera again and lists what its device cannot do', async () => {
    const probes = await open(camera(3, { onvif_host: '192.0.2.10', onvif_port: 80 }),
      () => json({ ...PROBE, warnings: ['PTZ not available: the camera lists no such service',
        'events not available: the camera lists no such service'] }));
    const box = await screen.findByTestId('onvif-warnings');
    expect(box.textContent).toContain('Not available on this ONVIF device');
    expect([...box.querySelectorAll('li')].map((li) => li.textContent)).toEqual([
      'PTZ not available: the camera lists no such service',
      'events not available: the camera lists no such service']);
    expect(probes()).toHaveLength(1);
    expect(probes()[0]?.body).toBeUndefined(); // no credentials from the browser
  });

  it('says so when every optional service answers', async () => {
    await open(camera(4, { onvif_host: 'cam4.example' }), () => json({ ...PROBE,
      warnings: [] }));
    await screen.findByTestId('onvif-all-available');
    expect(screen.queryByTestId('onvif-warnings')).toBeNull();
  });

  it('shows why the device could not be checked and keeps the form usable', async () => {
    await open(camera(5, { onvif_host: '192.0.2.10' }), () => json({ error: 'BadGateway',
      detail: 'camera authentication failed' }, 502));
    const hint = await screen.findByTestId('onvif-check-failed');
    expect(hint.textContent).toContain('camera authentication failed');
    expect((screen.getByRole('button', { name: 'Save' }) as HTMLButtonElement).disabled)
      .toBe(false);
  });

  it('does not probe a camera without an ONVIF address', async () => {
    const probes = await open(camera(6), () => json({ ...PROBE, warnings: ['x'] }));
    await new Promise((r) => setTimeout(r, 50));
    expect(probes()).toHaveLength(0);
    expect(screen.queryByTestId('onvif-checking')).toBeNull();
  });
});
