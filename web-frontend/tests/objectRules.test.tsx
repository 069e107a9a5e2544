// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ObjectRulesEditor } from '../src/admin/ObjectRulesEditor';
import {
  addPoint, checkDraft, crossingArrow, defaultObjects, emptyDraft, parseLabels, withRule,
  type Draft,
} from '../src/admin/objectRules';
import type { Camera, ObjectSettings } from '../src/api/types';
import { camera, json } from './support/fakeManagement';
import { consoleHarness } from './support/renderConsole';

afterEach(() => vi.unstubAllGlobals());

beforeAll(() => {
  // jsdom has no modal dialogs: open and close set the attribute, as browsers do.
  const proto = HTMLDialogElement.prototype as unknown as Record<string, unknown>;
  proto.showModal ??= function (this: HTMLDialogElement) { this.setAttribute('open', ''); };
  proto.close ??= function (this: HTMLDialogElement) { this.removeAttribute('open'); };
});

const zoneDraft = (extra: Partial<Draft> = {}): Draft => ({
  ...emptyDraft('zone'), name: 'door', points: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.6]], ...extra,
});

/** The analyser's side test (rules._cross): > 0 is the right of a -> b, where left_to_right ends. */
const side = (a: number[], b: number[], p: number[]) =>
  (b[0]! - a[0]!) * (p[1]! - a[1]!) - (b[1]! - a[1]!) * (p[0]! - a[0]!);

describe('object rule geometry and checks', () => {
  it('adds zone points up to the limit; a third click starts a line anew', () => {
    let zone = emptyDraft('zone');
    for (let i = 0; i < 70; i += 1) zone = addPoint(zone, [i / 100, 0.5]);
    expect(zone.points).toHaveLength(64);
    let line = emptyDraft('line');
    line = addPoint(addPoint(line, [0.1, 0.2]), [0.8, 0.2]);
    expect(line.points).toEqual([[0.1, 0.2], [0.8, 0.2]]);
    expect(addPoint(line, [0.3, 0.3]).points).toEqual([[0.3, 0.3]]);
  });

  it('parses labels as the API accepts them', () => {
    expect(parseLabels(' person, vehicle ,person,')).toEqual(['person', 'vehicle']);
    expect(parseLabels('')).toEqual([]);
    expect(parseLabels('person, car/bus')).toBeNull();
    expect(parseLabels(Array.from({ length: 33 }, (_, i) => `l${i}`).join(','))).toBeNull();
  });

  it('names what is wrong with a draft, as the API would', () => {
    const settings: ObjectSettings = { ...defaultObjects(),
      lines: [{ name: 'gate', a: [0, 0], b: [1, 1], direction: 'any', labels: [] }] };
    const problem = (d: Draft) => {
      const c = checkDraft(d, settings);
      return c.ok ? null : c.problem;
    };
    expect(problem(zoneDraft({ name: '' }))).toBe('errName');
    expect(problem(zoneDraft({ name: 'door/1' }))).toBe('errName');
    expect(problem(zoneDraft({ name: 'gate' }))).toBe('errDuplicate');
    expect(problem(zoneDraft({ labels: 'person, <b>' }))).toBe('errLabels');
    expect(problem(zoneDraft({ points: [[0, 0], [1, 1]] }))).toBe('errZonePoints');
    expect(problem(zoneDraft({ dwell: '0' }))).toBe('errDwell');
    expect(problem(zoneDraft({ dwell: 'ten' }))).toBe('errDwell');
    expect(problem(zoneDraft({ dwell: '86401' }))).toBe('errDwell');
    expect(problem(zoneDraft({ count: '2.5' }))).toBe('errCount');
    expect(problem(zoneDraft({ count: '-1' }))).toBe('errCount');
    expect(problem(zoneDraft({ count: '1001' }))).toBe('errCount');
    const line = { ...emptyDraft('line'), name: 'fence' };
    expect(problem({ ...line, points: [[0.2, 0.2]] })).toBe('errLinePoints');
    expect(problem({ ...line, points: [[0.2, 0.2], [0.2, 0.2]] })).toBe('errLineEnds');
    const full = { ...settings, zones: Array.from({ length: 16 }, (_, i) => ({ name: `z${i}`,
      polygon: zoneDraft().points, labels: [], dwell_s: null, max_count: null })) };
    const c = checkDraft(zoneDraft(), full);
    expect(c.ok ? null : c.problem).toBe('errTooMany');
  });

  it('turns a good draft into the API shape', () => {
    const c = checkDraft(zoneDraft({ labels: 'person', dwell: '2.5', count: '0' }), defaultObjects());
    expect(withRule(defaultObjects(), c).zones).toEqual([{ name: 'door',
      polygon: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.6]], labels: ['person'], dwell_s: 2.5, max_count: 0 }]);
    const l = checkDraft({ ...emptyDraft('line'), name: 'gate', points: [[0, 0.5], [1, 0.5]],
      direction: 'right_to_left' }, defaultObjects());
    expect(withRule(defaultObjects(), l).lines).toEqual([{ name: 'gate', a: [0, 0.5], b: [1, 0.5],
      direction: 'right_to_left', labels: [] }]);
  });

  it('draws the crossing arrow toward the side the analyser calls the end of the crossing', () => {
    for (const [a, b] of [[[0.1, 0.5], [0.9, 0.5]], [[0.5, 0.1], [0.5, 0.9]], [[0.8, 0.7], [0.2, 0.1]]]) {
      const ltr = crossingArrow({ a: a as [number, number], b: b as [number, number], direction: 'left_to_right' });
      const rtl = crossingArrow({ a: a as [number, number], b: b as [number, number], direction: 'right_to_left' });
      expect(side(a!, b!, ltr![1])).toBeGreaterThan(0);
      expect(side(a!, b!, rtl![1])).toBeLessThan(0);
    }
    expect(crossingArrow({ a: [0, 0], b: [1, 1], direction: 'any' })).toBeNull();
  });
});

/** A click on the drawing area, which lies at (100, 50) and is 800×400 pixels. */
function clickAt(x: number, y: number) {
  const svg = screen.getByLabelText('Drawing area');
  svg.getBoundingClientRect = () => ({ left: 100, top: 50, width: 800, height: 400, right: 900,
    bottom: 450, x: 100, y: 50, toJSON: () => ({}) });
  fireEvent.click(svg, { clientX: 100 + x, clientY: 50 + y });
}

async function openEditor(cam: Camera, answer: (body: unknown) => Response) {
  const h = await consoleHarness();
  h.server.route((req) => (req.path === `/api/v1/cameras/${cam.id}` && req.method === 'PATCH'
    ? answer(req.body) : undefined));
  const saved = vi.fn();
  render(<ObjectRulesEditor camera={cam} onClose={() => undefined} onSaved={saved} />,
    { wrapper: h.wrapper });
  await screen.findByLabelText('Drawing area', {}, { timeout: 5000 });
  return { h, saved };
}

describe('object rules editor', () => {
  it('draws a zone and a line by clicks and saves them normalized through the API', async () => {
    const cam = camera(3, { analysis: { ...camera(3).analysis, enabled: true } });
    const { h, saved } = await openEditor(cam, (body) => json({ ...cam, ...(body as object) }));
    for (const [x, y] of [[80, 40], [400, 40], [400, 300], [80, 300]]) clickAt(x!, y!);
    expect(screen.getByTestId('draft-points').textContent).toContain('4 points');
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'door' } });
    fireEvent.change(screen.getByLabelText('Labels (empty: all)'), { target: { value: 'person' } });
    fireEvent.change(screen.getByLabelText('Dwell alert after (s)'), { target: { value: '5' } });
    fireEvent.change(screen.getByLabelText('Count alert above'), { target: { value: '3' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add Zone' }));

    fireEvent.click(screen.getByRole('radio', { name: 'Line' }));
    clickAt(0, 200);
    clickAt(800, 200);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'gate' } });
    fireEvent.change(screen.getByLabelText('Crossing'), { target: { value: 'left_to_right' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add Line' }));
    const list = screen.getByRole('list', { name: 'Zones and lines' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(2);

    fireEvent.click(screen.getByLabelText('Object detection on'));
    fireEvent.change(screen.getByLabelText('Detector'), { target: { value: 'opencv-hog' } });
    fireEvent.change(screen.getByLabelText('Labels to detect (empty: all)'),
      { target: { value: 'person, vehicle' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(saved).toHaveBeenCalled(), { timeout: 5000 });
    const patch = h.server.requests.find((r) => r.method === 'PATCH');
    expect(patch?.body).toEqual({ analysis: { ...cam.analysis, objects: {
      enabled: true, detector: 'opencv-hog', labels: ['person', 'vehicle'], min_score: 0.5,
      retention_days: {},
      zones: [{ name: 'door', polygon: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.75], [0.1, 0.75]],
        labels: ['person'], dwell_s: 5, max_count: 3 }],
      lines: [{ name: 'gate', a: [0, 0.5], b: [1, 0.5], direction: 'left_to_right', labels: [] }],
    } } });
  }, 30_000);

  it('says what is wrong before adding, and shows the API refusal on save', async () => {
    const cam = camera(4, { analysis: { ...camera(4).analysis, objects: { ...defaultObjects(),
      zones: [{ name: 'yard', polygon: [[0, 0], [1, 0], [1, 1]], labels: [], dwell_s: null,
        max_count: null }] } } });
    const { saved } = await openEditor(cam, () => json({ error: 'ValidationError',
      detail: 'analysis.objects.min_score: Input should be less than or equal to 1' }, 422));
    expect(screen.getByText(/Objects are detected only where motion is found/)).toBeTruthy();
    clickAt(10, 10);
    clickAt(20, 10);
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'yard' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add Zone' }));
    expect(screen.getByRole('alert').textContent).toBe('Zone and line names must be unique.');
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'porch' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add Zone' }));
    expect(screen.getByRole('alert').textContent).toBe('A zone needs at least 3 points.');
    clickAt(20, 30);
    fireEvent.click(screen.getByRole('button', { name: 'Add Zone' }));
    expect(screen.queryByRole('alert')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    const alert = await screen.findByRole('alert', {}, { timeout: 5000 });
    expect(alert.textContent).toContain('Input should be less than or equal to 1');
    expect(saved).not.toHaveBeenCalled();
  }, 30_000);
});
