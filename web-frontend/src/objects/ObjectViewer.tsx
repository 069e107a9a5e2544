/**
 * One object: its recording from two seconds before it was first seen, with its box drawn
 * on the video and moved along the track's path, next to its snapshot and facts.
 */

import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useSession } from '../auth/session';
import { useCameras } from '../cameras/useCameras';
import { Dialog } from '../components/Dialog';
import { ErrorNote } from '../components/Feedback';
import { useApiQuery } from '../components/useApiQuery';
import { useFormat } from '../i18n/format';
import { PlaybackPlayer } from '../playback/PlaybackPlayer';
import { boxAt, boxOf, objectKeys, objectsApi, playbackLink, type TrackedObject } from './api';
import { BoxOverlay, ObjectSnapshot } from './ObjectSnapshot';
import { ObjectFacts } from './ObjectFacts';

const PRE_ROLL_MS = 2000;

export function ObjectViewer({ object, onClose }: { object: TrackedObject; onClose(): void }) {
  const { t } = useTranslation();
  const fmt = useFormat();
  const { can } = useSession();
  const { nameOf } = useCameras();
  const detail = useApiQuery(objectKeys.detail(object.id),
    (signal) => objectsApi.get(object.id, signal));
  const firstSeen = Date.parse(object.first_seen);
  const start = firstSeen - PRE_ROLL_MS;
  const [since, setSince] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (since === null) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(timer);
  }, [since]);

  const snapBox = boxOf(object);
  const position = since === null ? start : start + (now - since);
  const seconds = (position - firstSeen) / 1000;
  const lastSeen = Date.parse(object.last_seen);
  // The box is shown while the object was on screen (and a moment around it).
  const visible = position >= firstSeen - 500 && position <= lastSeen + 1000;
  const moving = snapBox && visible ? boxAt(snapBox, detail.data?.path ?? [], seconds) : null;
  const camera = nameOf(object.camera_id);

  return (
    <Dialog title={t('search.viewerTitle', { label: t(`objectLabels.${object.label}`,
      { defaultValue: object.label }), camera })} onClose={onClose} wide>
      <div className="object-viewer">
        {can('recordings:read') ? (
          <div className="object-player" data-testid="object-player">
            <PlaybackPlayer cameraId={object.camera_id} name={camera} start={start} speed={1}
              onPlaying={() => setSince((s) => s ?? Date.now())} />
            <BoxOverlay box={moving} label={object.label} />
          </div>
        ) : <p className="muted">{t('search.noPlayback')}</p>}
        <div className="object-side">
          <ObjectSnapshot eventId={object.event_id} hasSnapshot={object.snapshot_url !== null}
            box={snapBox} alt={t('search.snapshotOf', { label: object.label, camera })} />
          <ObjectFacts object={object} camera={camera} />
          <p className="small muted">{t('playback.position')}: {fmt.dateTime(position)}</p>
          <ErrorNote error={detail.error} />
          {can('recordings:read') && (
            <Link className="btn" to={playbackLink(object)}>{t('search.openPlayback')}</Link>)}
        </div>
      </div>
    </Dialog>
  );
}
