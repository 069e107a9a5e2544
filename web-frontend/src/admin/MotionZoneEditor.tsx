/** Draw motion zones and masks over a still frame of the camera (taken from its live video). */

import { useState, type MouseEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { cameras as camerasApi } from '../api/resources';
import { errorMessage } from '../api/errors';
import type { Camera, Point, Polygon } from '../api/types';
import { Dialog } from '../components/Dialog';
import { CameraStill } from './CameraStill';
import { MAX_POINTS, MAX_POLYGONS, MIN_POINTS, normalize, svgPoints } from './zones';

type Kind = 'zones' | 'masks';

export function MotionZoneEditor({ camera, onClose, onSaved }: { camera: Camera;
  onClose(): void; onSaved(c: Camera): void }) {
  const { t } = useTranslation();
  const [still, setStill] = useState(0);
  const [analysis, setAnalysis] = useState(camera.analysis);
  const [kind, setKind] = useState<Kind>('zones');
  const [draft, setDraft] = useState<Point[]>([]);
  const [error, setError] = useState<string | null>(null);

  const click = (e: MouseEvent<SVGSVGElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    if (draft.length >= MAX_POINTS) return;
    setDraft([...draft, normalize(e.clientX - r.left, e.clientY - r.top, r.width, r.height)]);
  };

  const finish = () => {
    if (draft.length < MIN_POINTS || analysis[kind].length >= MAX_POLYGONS) return;
    setAnalysis({ ...analysis, [kind]: [...analysis[kind], draft] });
    setDraft([]);
  };

  const remove = (k: Kind, i: number) =>
    setAnalysis({ ...analysis, [k]: analysis[k].filter((_: Polygon, j: number) => j !== i) });

  const save = async () => {
    setError(null);
    try {
      onSaved(await camerasApi.update(camera.id, { analysis }));
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <Dialog title={t('zones.title', { camera: camera.name })} onClose={onClose} wide>
      <div className="zone-stage">
        <CameraStill key={still} cameraId={camera.id} />
        <svg viewBox="0 0 1 1" preserveAspectRatio="none" className="zone-overlay"
          onClick={click} role="img" aria-label={t('zones.drawArea')}>
          {analysis.zones.map((p, i) => <polygon key={`z${i}`} className="zone" points={svgPoints(p)} />)}
          {analysis.masks.map((p, i) => <polygon key={`m${i}`} className="mask" points={svgPoints(p)} />)}
          {draft.length > 0 && <polyline className={`draft ${kind}`} points={svgPoints(draft)} />}
        </svg>
      </div>
      <div className="row wrap">
        <div className="segmented" role="radiogroup" aria-label={t('zones.kind')}>
          {(['zones', 'masks'] as const).map((k) => (
            <button key={k} type="button" role="radio" aria-checked={kind === k}
              className={kind === k ? 'active' : ''} onClick={() => setKind(k)}>{t(`zones.${k}`)}</button>
          ))}
        </div>
        <button type="button" className="btn" disabled={draft.length < MIN_POINTS} onClick={finish}>
          {t('zones.finish')}</button>
        <button type="button" className="btn" disabled={!draft.length}
          onClick={() => setDraft(draft.slice(0, -1))}>{t('zones.undo')}</button>
        <button type="button" className="btn" onClick={() => setStill(still + 1)}>{t('zones.newSnapshot')}</button>
        <span className="hint">{t('zones.help')}</span>
      </div>
      <ul className="zone-list">
        {(['zones', 'masks'] as const).flatMap((k) => analysis[k].map((p, i) => (
          <li key={`${k}${i}`}><span className={`sw ${k}`} /> {t(`zones.${k}`)} {i + 1}
            <span className="muted"> ({t('zones.points', { count: p.length })})</span>
            <button type="button" className="btn small" onClick={() => remove(k, i)}>
              {t('common.delete')}</button></li>
        )))}
      </ul>
      <div className="row wrap">
        <label className="inline-check"><input type="checkbox" checked={analysis.enabled}
          onChange={(e) => setAnalysis({ ...analysis, enabled: e.target.checked })} />
          {t('zones.enabled')}</label>
        <label className="inline-field"><span>{t('zones.sensitivity')}: {analysis.sensitivity}</span>
          <input type="range" min={1} max={100} value={analysis.sensitivity}
            onChange={(e) => setAnalysis({ ...analysis, sensitivity: Number(e.target.value) })} />
        </label>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      <div className="actions">
        <button type="button" className="btn" onClick={onClose}>{t('common.cancel')}</button>
        <button type="button" className="btn primary" onClick={() => void save()}>{t('common.save')}</button>
      </div>
    </Dialog>
  );
}
