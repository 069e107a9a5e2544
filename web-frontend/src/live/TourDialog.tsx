/** Set up a camera tour for one cell: which cameras (in list order) and the dwell time. */

import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Camera, Tour } from '../api/types';
import { Dialog } from '../components/Dialog';
import { MAX_DWELL_S, MIN_DWELL_S } from './layoutState';

interface TourDialogProps {
  cell: number;
  cameras: Camera[];
  current: Tour | undefined;
  onSave(tour: Tour): void;
  onStop(): void;
  onClose(): void;
}

export function TourDialog({ cell, cameras, current, onSave, onStop, onClose }: TourDialogProps) {
  const { t } = useTranslation();
  const [picked, setPicked] = useState<number[]>(current?.cameras ?? []);
  const [dwell, setDwell] = useState(current?.dwell_s ?? 10);
  const toggle = (id: number) =>
    setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSave({ cell, cameras: picked, dwell_s: dwell });
  };
  return (
    <Dialog title={t('live.tourFor', { cell: cell + 1 })} onClose={onClose}>
      <form className="stack" onSubmit={submit}>
        <fieldset className="tour-cameras">
          <legend>{t('live.tourCameras')}</legend>
          {cameras.map((c) => (
            <label key={c.id} className="inline-check">
              <input type="checkbox" checked={picked.includes(c.id)}
                onChange={() => toggle(c.id)} /> {c.name}
            </label>
          ))}
        </fieldset>
        <label className="field"><span>{t('live.tourDwell')}</span>
          <input type="number" min={MIN_DWELL_S} max={MAX_DWELL_S} value={dwell} required
            onChange={(e) => setDwell(Number(e.target.value))} /></label>
        <div className="actions">
          {current && <button type="button" className="btn" onClick={onStop}>
            {t('live.tourStop')}</button>}
          <button type="button" className="btn" onClick={onClose}>{t('common.cancel')}</button>
          <button type="submit" className="btn primary" disabled={picked.length < 2}>
            {t('common.save')}</button>
        </div>
      </form>
    </Dialog>
  );
}
