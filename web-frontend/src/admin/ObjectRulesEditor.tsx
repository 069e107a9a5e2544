/**
 * Object detection of a camera: detector, labels, and named zones (polygons) and lines (two
 * clicks and a crossing direction) drawn over a still picture; saved as `analysis.objects`.
 */

import { useState, type MouseEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { cameras as camerasApi } from '../api/resources';
import { errorMessage } from '../api/errors';
import type { Camera, LineDirection, ObjectDetectorName, ObjectSettings } from '../api/types';
import { Dialog } from '../components/Dialog';
import { CameraStill } from './CameraStill';
import {
  addPoint, checkDraft, crossingArrow, defaultObjects, DETECTORS, DIRECTIONS, emptyDraft,
  parseLabels, withRule, type Draft, type DrawKind,
} from './objectRules';
import { normalize, svgPoints } from './zones';

export function ObjectRulesEditor({ camera, onClose, onSaved }: { camera: Camera;
  onClose(): void; onSaved(c: Camera): void }) {
  const { t } = useTranslation();
  const [still, setStill] = useState(0);
  const [objects, setObjects] = useState<ObjectSettings>(camera.analysis.objects ?? defaultObjects());
  const [labelsText, setLabelsText] = useState(objects.labels.join(', '));
  const [draft, setDraft] = useState<Draft>(emptyDraft('zone'));
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const edit = (patch: Partial<Draft>) => setDraft({ ...draft, ...patch });

  const click = (e: MouseEvent<SVGSVGElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    setDraft(addPoint(draft, normalize(e.clientX - r.left, e.clientY - r.top, r.width, r.height)));
  };

  const add = () => {
    const checked = checkDraft(draft, objects);
    if (!checked.ok) {
      setProblem(checked.problem);
      return;
    }
    setProblem(null);
    setObjects(withRule(objects, checked));
    setDraft(emptyDraft(draft.kind));
  };

  const save = async () => {
    setError(null);
    const labels = parseLabels(labelsText);
    if (labels === null) {
      setError(t('objectRules.errLabels'));
      return;
    }
    try {
      onSaved(await camerasApi.update(camera.id,
        { analysis: { ...camera.analysis, objects: { ...objects, labels } } }));
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const kindLabel = draft.kind === 'zone' ? t('objectRules.zone') : t('objectRules.line');
  return (
    <Dialog title={t('objectRules.title', { camera: camera.name })} onClose={onClose} wide>
      <div className="zone-stage">
        <CameraStill key={still} cameraId={camera.id} />
        <svg viewBox="0 0 1 1" preserveAspectRatio="none" className="zone-overlay"
          onClick={click} role="img" aria-label={t('zones.drawArea')}>
          <defs>
            <marker id="obj-arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="4"
              markerHeight="4" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" fill="#f97316" />
            </marker>
          </defs>
          {objects.zones.map((z) => <polygon key={`z-${z.name}`} className="zone" points={svgPoints(z.polygon)} />)}
          {objects.lines.map((l) => {
            const arrow = crossingArrow(l);
            return (
              <g key={`l-${l.name}`} className="obj-line">
                <line x1={l.a[0]} y1={l.a[1]} x2={l.b[0]} y2={l.b[1]} />
                {arrow && <line className="arrow" x1={arrow[0][0]} y1={arrow[0][1]}
                  x2={arrow[1][0]} y2={arrow[1][1]} markerEnd="url(#obj-arrow)" />}
              </g>
            );
          })}
          {draft.points.length > 0 && <polyline className="draft zones" points={svgPoints(draft.points)} />}
        </svg>
      </div>
      <div className="row wrap">
        <div className="segmented" role="radiogroup" aria-label={t('zones.kind')}>
          {(['zone', 'line'] as DrawKind[]).map((k) => (
            <button key={k} type="button" role="radio" aria-checked={draft.kind === k}
              className={draft.kind === k ? 'active' : ''}
              onClick={() => setDraft({ ...emptyDraft(k), name: draft.name, labels: draft.labels })}>
              {t(`objectRules.${k}`)}</button>
          ))}
        </div>
        <button type="button" className="btn" disabled={!draft.points.length}
          onClick={() => edit({ points: draft.points.slice(0, -1) })}>{t('zones.undo')}</button>
        <button type="button" className="btn" onClick={() => setStill(still + 1)}>{t('zones.newSnapshot')}</button>
        <span className="hint" data-testid="draft-points">
          {draft.kind === 'zone' ? t('objectRules.zoneHelp') : t('objectRules.lineHelp')}
          {' '}({t('zones.points', { count: draft.points.length })})</span>
      </div>
      <fieldset className="obj-draft">
        <legend>{t('objectRules.newRule', { kind: kindLabel })}</legend>
        <div className="row wrap">
          <label className="inline-field"><span>{t('objectRules.name')}</span>
            <input value={draft.name} maxLength={64} onChange={(e) => edit({ name: e.target.value })} /></label>
          <label className="inline-field"><span>{t('objectRules.ruleLabels')}</span>
            <input value={draft.labels} placeholder="person, vehicle"
              onChange={(e) => edit({ labels: e.target.value })} /></label>
          {draft.kind === 'zone' ? (<>
            <label className="inline-field"><span>{t('objectRules.dwell')}</span>
              <input type="number" min={0} step="any" value={draft.dwell}
                onChange={(e) => edit({ dwell: e.target.value })} /></label>
            <label className="inline-field"><span>{t('objectRules.maxCount')}</span>
              <input type="number" min={0} step={1} value={draft.count}
                onChange={(e) => edit({ count: e.target.value })} /></label>
          </>) : (
            <label className="inline-field"><span>{t('objectRules.direction')}</span>
              <select value={draft.direction}
                onChange={(e) => edit({ direction: e.target.value as LineDirection })}>
                {DIRECTIONS.map((d) => <option key={d} value={d}>{t(`objectRules.directions.${d}`)}</option>)}
              </select></label>
          )}
          <button type="button" className="btn" onClick={add}>{t('objectRules.add', { kind: kindLabel })}</button>
        </div>
        {problem && <p className="error" role="alert">{t(`objectRules.${problem}`)}</p>}
      </fieldset>
      <ul className="zone-list" aria-label={t('objectRules.rules')}>
        {objects.zones.map((z) => (
          <li key={`z-${z.name}`}><span className="sw zones" /> {t('objectRules.zone')} “{z.name}”
            <span className="muted"> ({t('zones.points', { count: z.polygon.length })}
              {z.labels.length > 0 && ` · ${z.labels.join(', ')}`}
              {z.dwell_s !== null && ` · ${t('objectRules.dwell')} ${z.dwell_s}`}
              {z.max_count !== null && ` · ${t('objectRules.maxCount')} ${z.max_count}`})</span>
            <button type="button" className="btn small" onClick={() => setObjects({ ...objects,
              zones: objects.zones.filter((o) => o !== z) })}>{t('common.delete')}</button></li>
        ))}
        {objects.lines.map((l) => (
          <li key={`l-${l.name}`}><span className="sw lines" /> {t('objectRules.line')} “{l.name}”
            <span className="muted"> ({t(`objectRules.directions.${l.direction}`)}
              {l.labels.length > 0 && ` · ${l.labels.join(', ')}`})</span>
            <button type="button" className="btn small" onClick={() => setObjects({ ...objects,
              lines: objects.lines.filter((o) => o !== l) })}>{t('common.delete')}</button></li>
        ))}
      </ul>
      <div className="row wrap">
        <label className="inline-check"><input type="checkbox" checked={objects.enabled}
          onChange={(e) => setObjects({ ...objects, enabled: e.target.checked })} />
          {t('objectRules.enabled')}</label>
        <label className="inline-field"><span>{t('objectRules.detector')}</span>
          <select value={objects.detector}
            onChange={(e) => setObjects({ ...objects, detector: e.target.value as ObjectDetectorName })}>
            {DETECTORS.map((d) => <option key={d} value={d}>{t(`objectRules.detectors.${d}`)}</option>)}
          </select></label>
        <label className="inline-field"><span>{t('objectRules.labels')}</span>
          <input value={labelsText} placeholder="person, vehicle"
            onChange={(e) => setLabelsText(e.target.value)} /></label>
        <label className="inline-field"><span>{t('objectRules.minScore')}: {objects.min_score}</span>
          <input type="range" min={0} max={1} step={0.05} value={objects.min_score}
            onChange={(e) => setObjects({ ...objects, min_score: Number(e.target.value) })} /></label>
      </div>
      {!camera.analysis.enabled && <p className="hint">{t('objectRules.needsMotion')}</p>}
      {error && <p className="error" role="alert">{error}</p>}
      <div className="actions">
        <button type="button" className="btn" onClick={onClose}>{t('common.cancel')}</button>
        <button type="button" className="btn primary" onClick={() => void save()}>{t('common.save')}</button>
      </div>
    </Dialog>
  );
}
