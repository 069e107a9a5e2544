/**
 * The camera's PTZ guard tours in its PTZ panel: each tour's presets and dwell times and
 * what the server's runner does with it (running at a preset, paused while an operator has
 * control, idle, disabled); administrators (cameras:write) create, edit and delete them.
 */

import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage } from '../api/errors';
import { guardTours, type GuardTour, type GuardTourInput } from '../api/guardTours';
import { ptz } from '../api/ptz';
import { keys } from '../api/queryClient';
import type { PtzPreset } from '../api/types';
import { useSession } from '../auth/session';
import { ConfirmButton } from '../components/Feedback';
import { useApiQuery } from '../components/useApiQuery';
import { GuardTourEditor } from './GuardTourEditor';

const POLL_MS = 5000;
export const GUARD_TOURS_KEY = ['guard-tours'] as const;

function Status({ tour, presets }: { tour: GuardTour; presets: PtzPreset[] }) {
  const { t } = useTranslation();
  const { state, step, held_by: heldBy } = tour.status;
  const token = step == null ? null : tour.steps[step]?.preset;
  const preset = token == null ? null : (presets.find((p) => p.token === token)?.name ?? token);
  let text: string;
  if (state === 'running') {
    text = preset ? t('guardTours.runningAt', { preset }) : t('guardTours.running');
  } else if (state === 'paused') {
    text = t('guardTours.paused', { user: heldBy ?? '?' });
  } else {
    text = t(`guardTours.${state}`);
  }
  return <span className={`tag guard-tour-${state}`} data-state={state}>{text}</span>;
}

export function GuardTours({ cameraId }: { cameraId: number }) {
  const { t } = useTranslation();
  const { can } = useSession();
  const admin = can('cameras:write');
  const tours = useApiQuery(GUARD_TOURS_KEY, (signal) => guardTours.list(signal),
    { refetchInterval: POLL_MS });
  const presets = useApiQuery(keys.ptzPresets(cameraId), (signal) => ptz.presets(cameraId, signal));
  const [editing, setEditing] = useState<GuardTour | 'new' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const mine = (tours.data ?? []).filter((tour) => tour.camera_id === cameraId);
  const presetList = presets.data ?? [];
  const presetName = (token: string) => presetList.find((p) => p.token === token)?.name ?? token;

  const save = async (body: GuardTourInput) => {
    if (editing === 'new') await guardTours.create(cameraId, body);
    else if (editing) await guardTours.update(editing.id, body);
    setEditing(null);
    tours.reload();
  };

  const remove = async (tour: GuardTour) => {
    setError(null);
    try {
      await guardTours.remove(tour.id);
      tours.reload();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <section className="guard-tours" aria-label={t('guardTours.title')}>
      <h3 className="panel-subtitle">{t('guardTours.title')}</h3>
      {tours.error != null && <p className="error">{errorMessage(tours.error)}</p>}
      {tours.data && mine.length === 0 && <p className="muted">{t('guardTours.none')}</p>}
      <ul className="preset-list">
        {mine.map((tour) => (
          <li key={tour.id} data-testid={`guard-tour-${tour.id}`}>
            <div className="grow">
              <strong>{tour.name}</strong> <Status tour={tour} presets={presetList} />
              <div className="muted small">
                {tour.steps.map((s) => t('guardTours.stepSummary',
                  { preset: presetName(s.preset), dwell: s.dwell_s })).join(' → ')}
              </div>
            </div>
            {admin && (
              <>
                <button type="button" className="btn small" onClick={() => setEditing(tour)}
                  aria-label={t('guardTours.edit', { name: tour.name })}>{t('common.edit')}</button>
                <ConfirmButton className="btn small" label={t('common.delete')}
                  confirmLabel={t('common.confirm')} onConfirm={() => remove(tour)} />
              </>
            )}
          </li>
        ))}
      </ul>
      {admin && editing === null && (
        <button type="button" className="btn" onClick={() => setEditing('new')}
          disabled={presetList.length === 0}>{t('guardTours.add')}</button>
      )}
      {admin && presets.data && presetList.length === 0 && (
        <p className="hint">{t('guardTours.needPresets')}</p>
      )}
      {editing !== null && (
        <GuardTourEditor key={editing === 'new' ? 'new' : editing.id}
          tour={editing === 'new' ? null : editing} presets={presetList}
          onSave={save} onCancel={() => setEditing(null)} />
      )}
      {error && <p className="error" role="alert">{error}</p>}
    </section>
  );
}
