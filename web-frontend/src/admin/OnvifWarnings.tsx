/** What a registered ONVIF camera cannot do, shown in its edit form: the camera is probed
 * again (`POST /cameras/{id}/onvif/probe`, with its stored address and credentials: the
 * console never holds the password) when the form opens, and the probe's `warnings` are
 * listed as in the ONVIF add dialog. */

import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { errorMessage } from '../api/errors';
import type { ManagementSchemas } from '../api/schema';

export type CameraProbe = ManagementSchemas['ProbeOut'];

export const probeCamera = (cameraId: number, signal?: AbortSignal) =>
  api.request<CameraProbe>('POST', `/api/v1/cameras/${cameraId}/onvif/probe`,
    signal ? { signal } : {});

export function OnvifWarnings({ cameraId }: { cameraId: number }) {
  const { t } = useTranslation();
  const q = useQuery({
    queryKey: ['camera-onvif-probe', cameraId],
    queryFn: ({ signal }) => probeCamera(cameraId, signal),
    retry: false,
    staleTime: 0,
    gcTime: 0, // asked again each time the form opens: the camera may have changed
  });
  if (q.isPending) {
    return <p className="hint span2" role="status" data-testid="onvif-checking">
      {t('cameras.onvifChecking')}</p>;
  }
  if (q.isError) {
    return <p className="hint span2" role="status" data-testid="onvif-check-failed">
      {t('cameras.onvifCheckFailed', { detail: errorMessage(q.error) })}</p>;
  }
  const warnings = q.data.warnings ?? [];
  if (warnings.length === 0) {
    return <p className="hint span2" role="status" data-testid="onvif-all-available">
      {t('cameras.onvifAllAvailable')}</p>;
  }
  return (
    <div className="notice warn span2" role="status" data-testid="onvif-warnings">
      <p>{t('cameras.onvifWarnings')}</p>
      <ul>{warnings.map((w) => <li key={w}>{w}</li>)}</ul>
    </div>
  );
}
