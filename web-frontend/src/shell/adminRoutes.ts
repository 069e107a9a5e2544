/** Administration pages and the permission each needs (the UI hides the others). */

import type { Permission } from '../auth/session';

export const ADMIN_PAGES: { path: string; label: string; permission: Permission }[] = [
  { path: '/admin/cameras', label: 'admin.cameras', permission: 'cameras:write' },
  { path: '/admin/users', label: 'admin.users', permission: 'users:manage' },
  { path: '/admin/rtmp', label: 'admin.rtmp', permission: 'rtmp:keys' },
  { path: '/admin/audit', label: 'admin.audit', permission: 'audit:read' },
];

export function firstAdminPath(can: (p: Permission) => boolean): string | null {
  return ADMIN_PAGES.find((p) => can(p.permission))?.path ?? null;
}
