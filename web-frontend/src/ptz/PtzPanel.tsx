/** PTZ control of one camera: lock (who, until when), direction pad, zoom, presets, home. */

import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ptz } from '../api/ptz';
import { errorMessage } from '../api/errors';
import type { Camera, PtzPosition } from '../api/types';
import { IconLock } from '../components/icons';
import { useFormat } from '../i18n/format';
import { GuardTours } from './GuardTours';
import { PtzPad } from './PtzPad';
import { PtzPresets } from './PtzPresets';
import { usePtzLock } from './usePtzLock';

export function PtzPanel({ camera }: { camera: Camera }) {
  const { t } = useTranslation();
  const fmt = useFormat();
  const lock = usePtzLock(camera.id);
  const [speed, setSpeed] = useState(0.5);
  const [error, setError] = useState<string | null>(null);
  const [position, setPosition] = useState<PtzPosition | null>(null);

  const readStatus = useCallback(() => {
    ptz.status(camera.id).then((s) => setPosition(s.position), () => undefined);
  }, [camera.id]);
  useEffect(readStatus, [readStatus]);

  // A command needs the lock: take it when it is free, say who has it otherwise.
  const ensureLock = useCallback(async () => {
    setError(null);
    if (lock.mine) return true;
    if (lock.lock) {
      setError(t('ptz.heldBy', { user: lock.lock.holder_username }));
      return false;
    }
    return lock.acquire(false);
  }, [lock, t]);

  const held = lock.lock;
  return (
    <aside className="ptz-panel" aria-label={t('ptz.title', { camera: camera.name })}>
      <h2 className="panel-title">{t('ptz.title', { camera: camera.name })}</h2>
      <div className={`lock-indicator${lock.mine ? ' mine' : held ? ' other' : ''}`}
        role="status" data-holder={held?.holder_username ?? ''}>
        <IconLock size={16} />
        <span>
          {!held && t('ptz.free')}
          {held && lock.mine && t('ptz.yours', { until: fmt.time(held.expires_at, true) })}
          {held && !lock.mine && t('ptz.heldUntil', { user: held.holder_username,
            until: fmt.time(held.expires_at, true) })}
        </span>
      </div>
      <div className="row">
        {!lock.mine && !held && (
          <button type="button" className="btn primary" onClick={() => void lock.acquire()}>
            {t('ptz.take')}</button>
        )}
        {!lock.mine && held && (
          <button type="button" className="btn warn" onClick={() => void lock.acquire(true)}>
            {t('ptz.takeover')}</button>
        )}
        {lock.mine && (
          <button type="button" className="btn" onClick={() => void lock.release()}>
            {t('ptz.release')}</button>
        )}
      </div>
      {lock.takenBy && (
        <div className="notice warn" role="alert">
          {t('ptz.takenOver', { user: lock.takenBy })}
          <button type="button" className="btn small" onClick={lock.clearNotice}>
            {t('common.dismiss')}</button>
        </div>
      )}
      <PtzPad speed={speed} disabled={Boolean(held && !lock.mine)} beforeMove={ensureLock}
        move={async (v, s) => lock.update((await ptz.move(camera.id, v, s)).lock)}
        stop={() => ptz.stop(camera.id)}
        onError={(err) => setError(errorMessage(err))}
        onStopped={() => setTimeout(readStatus, 300)} />
      <label className="field compact">
        <span>{t('ptz.speed')}: {Math.round(speed * 100)}%</span>
        <input type="range" min={0.1} max={1} step={0.1} value={speed}
          onChange={(e) => setSpeed(Number(e.target.value))} />
      </label>
      {position && (
        <p className="muted small" data-testid="ptz-position">
          {t('ptz.position', { pan: position.pan?.toFixed(2) ?? '—',
            tilt: position.tilt?.toFixed(2) ?? '—', zoom: position.zoom?.toFixed(2) ?? '—' })}
        </p>
      )}
      <PtzPresets cameraId={camera.id} disabled={Boolean(held && !lock.mine)}
        beforeCommand={ensureLock} onMoved={() => setTimeout(readStatus, 1000)} />
      <GuardTours cameraId={camera.id} />
      {(error ?? lock.error) && <p className="error" role="alert">{error ?? lock.error}</p>}
    </aside>
  );
}
