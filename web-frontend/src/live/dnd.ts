/** Drag-and-drop payload types of the live grid. */
export const CAMERA_MIME = 'application/x-argus-camera';
export const CELL_MIME = 'application/x-argus-cell';

/** Read a numeric id of `type` from a drop, or null. */
export function dropId(e: { dataTransfer: DataTransfer }, type: string): number | null {
  const raw = e.dataTransfer.getData(type);
  if (!raw) return null;
  const n = Number(raw);
  return Number.isInteger(n) ? n : null;
}
