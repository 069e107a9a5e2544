/** Create or edit one guard tour: a name, enabled, and presets with a dwell time each. */

import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage } from '../api/errors';
import { MAX_STEPS, type GuardTour, type GuardTourInput } from '../api/guardTours';
import type { PtzPreset } from '../api/types';

const DEFAULT_DWELL_S = 10;

interface Props {
  tour: GuardTour | null;
  presets: PtzPreset[];
  onSave(body: GuardTourInput): Promise<void>;
  onCancel(): void;
}

interface Row {
  preset: string;
  dwell: string;
}

export function GuardTourEditor({ tour, presets, onSave, onCancel }: Props) {
  const { t } = useTranslation();
  const [name, setName] = useState(tour?.name ?? '');
  const [enabled, setEnabled] = useState(tour?.enabled ?? true);
  const [rows, setRows] = useState<Row[]>(
    tour?.steps.map((s) => ({ preset: s.preset, dwell: String(s.dwell_s) }))
      ?? presets.slice(0, 2).map((p) => ({ preset: p.token, dwell: String(DEFAULT_DWELL_S) })));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const setRow = (i: number, patch: Partial<Row>) =>
    setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await onSave({ name: name.trim(), enabled,
        steps: rows.map((r) => ({ preset: r.preset, dwell_s: Number(r.dwell) })) });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  // A preset deleted from the camera still shows (by token) until the tour is changed.
  const options = (current: string) => (presets.some((p) => p.token === current) || !current
    ? presets : [...presets, { token: current, name: current } as PtzPreset]);

  return (
    <form className="guard-tour-editor" onSubmit={(e) => void submit(e)}
      aria-label={tour ? t('guardTours.edit', { name: tour.name }) : t('guardTours.add')}>
      <label className="field"><span>{t('guardTours.name')}</span>
        <input required maxLength={64} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label className="field inline"><input type="checkbox" checked={enabled}
        onChange={(e) => setEnabled(e.target.checked)} /> {t('guardTours.enabled')}</label>
      <ol className="guard-tour-steps">
        {rows.map((r, i) => (
          <li key={i} className="row">
            <select aria-label={t('guardTours.stepPreset', { n: i + 1 })} value={r.preset}
              required onChange={(e) => setRow(i, { preset: e.target.value })}>
              {options(r.preset).map((p) => <option key={p.token} value={p.token}>{p.name}</option>)}
            </select>
            <input type="number" min={1} max={3600} step="any" required value={r.dwell}
              aria-label={t('guardTours.stepDwell', { n: i + 1 })}
              onChange={(e) => setRow(i, { dwell: e.target.value })} />
            <span className="muted">s</span>
            <button type="button" className="btn small" disabled={rows.length <= 1}
              aria-label={t('guardTours.removeStep', { n: i + 1 })}
              onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}>×</button>
          </li>
        ))}
      </ol>
      <div className="row">
        <button type="button" className="btn small"
          disabled={rows.length >= MAX_STEPS || presets.length === 0}
          onClick={() => setRows((rs) => [...rs,
            { preset: presets[0]?.token ?? '', dwell: String(DEFAULT_DWELL_S) }])}>
          {t('guardTours.addStep')}</button>
      </div>
      <div className="actions">
        <button type="button" className="btn" onClick={onCancel}>{t('common.cancel')}</button>
        <button type="submit" className="btn primary" disabled={busy || !name.trim()}>
          {t('common.save')}</button>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
    </form>
  );
}
