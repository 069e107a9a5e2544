/** The translated title of an alert kind (the server's English title when the kind is new). */

import type { TFunction } from 'i18next';

const KNOWN = ['camera.offline', 'camera.online', 'recorder.down', 'disk.low', 'rtmp.received',
  'motion', 'object.zone', 'object.line', 'object.dwell', 'object.count'] as const;

export function alertTitle(t: TFunction, kind: string, fallback: string, camera?: string): string {
  if ((KNOWN as readonly string[]).includes(kind)) {
    return t(`alertKinds.${kind.replace('.', '_')}`, { camera: camera ?? '—' });
  }
  return fallback || kind;
}
