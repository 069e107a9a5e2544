/**
 * Types generated from the services' OpenAPI schemas (`npm run gen:api`, from the dumps of
 * `scripts/dump_openapi.py`), and compile-time checks that the hand-written shapes in
 * types.ts still accept what the server sends: a backend change that breaks the console
 * fails `tsc` (and so `npm run build`).
 */

import type { components as Management } from './generated/management';
import type { GuardTour } from './guardTours';
import type {
  Alert, ArgusEvent, AuditEntry, Camera, Layout, Me, Page, PtzLock, Timeline, User,
} from './types';

export type ManagementSchemas = Management['schemas'];

/** An RTMP stream key as listed (`GET /api/v1/rtmp/keys`, paged). */
export type RtmpKey = ManagementSchemas['KeyOut'];
/** A key just created: the only answer that carries the secret `key`. */
export type RtmpKeyCreated = ManagementSchemas['KeyCreated'];

/**
 * The shape without the console's narrowings: management declares `severity`,
 * `recording_mode`, `state` as plain strings and polygons as nested number lists, where the
 * console names the values it knows, and fields with a default (always sent) are optional
 * in the schema. Field names, types, nullability and structure are compared.
 */
type Loose<T> = T extends string ? string
  : T extends readonly (infer U)[] ? Loose<U>[]
  : T extends object ? { [K in keyof T]-?: Loose<Exclude<T[K], undefined>> }
  : T;

/** `true` when what the server sends (`Server`) can be used as the console's `Console`. */
type Accepts<Console, Server> = [Loose<Server>] extends [Loose<Console>] ? true : false;
type Check<T extends true> = T;

// Each line fails to compile when the server's answer no longer fits the console's type.
export type Contract = [
  Check<Accepts<Camera, ManagementSchemas['CameraOut']>>,
  Check<Accepts<Page<Camera>, ManagementSchemas['Page_CameraOut_']>>,
  Check<Accepts<Layout, ManagementSchemas['LayoutOut']>>,
  Check<Accepts<Alert, ManagementSchemas['AlertOut']>>,
  Check<Accepts<Page<Alert>, ManagementSchemas['Page_AlertOut_']>>,
  Check<Accepts<ArgusEvent, ManagementSchemas['EventOut']>>,
  Check<Accepts<AuditEntry, ManagementSchemas['AuditOut']>>,
  Check<Accepts<User, ManagementSchemas['UserOut']>>,
  Check<Accepts<Me, ManagementSchemas['MeResponse']>>,
  Check<Accepts<PtzLock, ManagementSchemas['LockOut']>>,
  Check<Accepts<Timeline, ManagementSchemas['TimelineOut']>>,
  Check<Accepts<GuardTour, ManagementSchemas['GuardTourOut']>>,
];
