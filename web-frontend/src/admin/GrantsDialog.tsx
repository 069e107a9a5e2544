/** Per-camera grants of one user: the cameras and camera groups they may see. */

import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { users as usersApi } from '../api/resources';
import { errorMessage } from '../api/errors';
import type { CameraGroup, User } from '../api/types';
import { Dialog } from '../components/Dialog';
import { Loading } from '../components/Feedback';
import { useCameras } from '../cameras/useCameras';

export function GrantsDialog({ user, onClose }: { user: User; onClose(): void }) {
  const { t } = useTranslation();
  const { cameras } = useCameras();
  const [cams, setCams] = useState<number[] | null>(null);
  const [groups, setGroups] = useState<number[]>([]);
  const [allGroups, setAllGroups] = useState<CameraGroup[]>([]);
  const [seesAll, setSeesAll] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    Promise.all([usersApi.grants(user.id), usersApi.groups()]).then(([g, gs]) => {
      setCams(g.camera_ids);
      setGroups(g.group_ids);
      setSeesAll(g.sees_all_cameras);
      setAllGroups(gs);
    }, (err: unknown) => setError(errorMessage(err)));
  }, [user.id]);

  const flip = (list: number[], id: number, on: boolean) =>
    (on ? [...list, id] : list.filter((x) => x !== id));

  const save = async () => {
    setError(null);
    try {
      await usersApi.setGrants(user.id, cams ?? [], groups);
      setSaved(true);
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <Dialog title={t('grants.title', { name: user.username })} onClose={onClose}>
      {cams === null && !error && <Loading />}
      {seesAll && <p className="notice">{t('grants.seesAll')}</p>}
      {cams !== null && (
        <div className="stack">
          <fieldset className="fieldset">
            <legend>{t('grants.cameras')}</legend>
            {cameras.map((c) => (
              <label key={c.id} className="inline-check">
                <input type="checkbox" checked={cams.includes(c.id)}
                  onChange={(e) => { setCams(flip(cams, c.id, e.target.checked)); setSaved(false); }} />
                {c.name}</label>
            ))}
          </fieldset>
          {allGroups.length > 0 && (
            <fieldset className="fieldset">
              <legend>{t('grants.groups')}</legend>
              {allGroups.map((g) => (
                <label key={g.id} className="inline-check">
                  <input type="checkbox" checked={groups.includes(g.id)}
                    onChange={(e) => { setGroups(flip(groups, g.id, e.target.checked)); setSaved(false); }} />
                  {g.name} <span className="muted small">({t('grants.groupSize', { count: g.camera_ids.length })})</span>
                </label>
              ))}
            </fieldset>
          )}
        </div>
      )}
      {saved && <p className="ok" role="status">{t('grants.saved')}</p>}
      {error && <p className="error" role="alert">{error}</p>}
      <div className="actions">
        <button type="button" className="btn" onClick={onClose}>{t('common.close')}</button>
        <button type="button" className="btn primary" disabled={cams === null}
          onClick={() => void save()}>{t('common.save')}</button>
      </div>
    </Dialog>
  );
}
