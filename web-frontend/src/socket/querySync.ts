/**
 * Socket frames keep the query cache fresh: a camera's badge changes at once on
 * camera.offline/online, alert views reload once per burst of alerts, and everything the
 * socket would have told is reloaded after a reconnect (`ready`).
 */

import type { QueryClient } from '@tanstack/react-query';
import { keys } from '../api/queryClient';
import { patchCameraStatus } from '../cameras/useCameras';
import type { ConsoleSocket } from './consoleSocket';

/** Alerts arriving within this window make one reload of the alert views. */
export const ALERT_SETTLE_MS = 400;

export function syncQueries(socket: ConsoleSocket, qc: QueryClient): () => void {
  let settle: ReturnType<typeof setTimeout> | null = null;
  const offs = [
    socket.on('ready', () => {
      void qc.invalidateQueries({ queryKey: keys.cameras });
      void qc.invalidateQueries({ queryKey: keys.alerts });
      void qc.invalidateQueries({ queryKey: ['ptz-lock'] });
    }),
    socket.on('alert', (a) => {
      if (a.camera_id !== null && a.state === 'open') {
        if (a.kind === 'camera.offline') patchCameraStatus(qc, a.camera_id, 'offline');
        if (a.kind === 'camera.online') patchCameraStatus(qc, a.camera_id, 'online');
      }
      if (settle) clearTimeout(settle);
      settle = setTimeout(() => {
        settle = null;
        void qc.invalidateQueries({ queryKey: keys.alerts });
      }, ALERT_SETTLE_MS);
    }),
  ];
  return () => {
    offs.forEach((off) => off());
    if (settle) clearTimeout(settle);
  };
}
