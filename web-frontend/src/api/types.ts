/** Shapes of the management API, as its OpenAPI schema describes them. */

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface Me {
  id: number;
  username: string;
  email: string | null;
  roles: string[];
  permissions: string[];
  camera_ids: number[];
  all_cameras: boolean;
}

export type RecordingMode = 'continuous' | 'events' | 'off';
export type Point = [number, number];
export type Polygon = Point[];

export type ObjectDetectorName = 'auto' | 'opencv-hog' | 'onnx' | 'opencv-face';
export type LineDirection = 'any' | 'left_to_right' | 'right_to_left';

/** A named zone of object rules (an object is in it when its box's bottom centre is). */
export interface ObjectZone {
  name: string;
  polygon: Polygon;
  labels: string[];
  dwell_s: number | null;
  max_count: number | null;
}

/** A directed line a -> b; `left_to_right` is from the left of a -> b as drawn. */
export interface ObjectLine {
  name: string;
  a: Point;
  b: Point;
  direction: LineDirection;
  labels: string[];
}

export interface ObjectSettings {
  enabled: boolean;
  detector: ObjectDetectorName;
  labels: string[];
  min_score: number;
  zones: ObjectZone[];
  lines: ObjectLine[];
  retention_days: { [label: string]: number };
}

export interface AnalysisSettings {
  enabled: boolean;
  sensitivity: number;
  min_area: number;
  zones: Polygon[];
  masks: Polygon[];
  start_frames: number;
  end_quiet_s: number;
  /** Also analyse footage backfilled from the camera's own storage after an outage. */
  backfill?: boolean;
  /** null: the analyser's defaults (ANALYSIS_OBJECT_DEFAULTS). */
  objects?: ObjectSettings | null;
}

export interface Camera {
  id: number;
  name: string;
  kind: string;
  stream_url: string;
  sub_stream_url: string | null;
  username: string | null;
  has_password: boolean;
  onvif_host: string | null;
  onvif_port: number | null;
  has_ptz: boolean;
  enabled: boolean;
  recording_mode: RecordingMode;
  retention_days: number;
  /** Hours until recordings move to the object store; null: the recorder's default. */
  tier_after_hours?: number | null;
  analysis: AnalysisSettings;
  connect_timeout_s: number;
  read_timeout_s: number;
  status: string;
  last_seen: string | null;
  created_at: string;
  updated_at: string;
}

export interface CameraInput {
  name?: string;
  stream_url?: string | null;
  sub_stream_url?: string | null;
  username?: string | null;
  password?: string | null;
  onvif_host?: string | null;
  onvif_port?: number | null;
  has_ptz?: boolean;
  enabled?: boolean;
  recording_mode?: RecordingMode;
  retention_days?: number;
  tier_after_hours?: number | null;
  analysis?: AnalysisSettings;
  onvif_profile?: string;
  onvif_sub_profile?: string;
}

/** A cell that cycles through cameras, each shown for `dwell_s` seconds. */
export interface Tour {
  cell: number;
  cameras: number[];
  dwell_s: number;
}

export interface Layout {
  id: number;
  name: string;
  grid: number;
  cells: (number | null)[];
  tours?: Tour[];
  owner_id: number;
  owner: string | null;
  shared: boolean;
  created_at: string;
  updated_at: string;
}

export interface LayoutInput {
  name?: string;
  grid?: number;
  cells?: (number | null)[];
  tours?: Tour[];
  shared?: boolean;
}

export interface PtzLock {
  camera_id: number;
  holder_user_id: number;
  holder_username: string;
  priority: number;
  acquired_at: string;
  expires_at: string;
  yours: boolean;
}

export interface PtzPosition {
  pan: number | null;
  tilt: number | null;
  zoom: number | null;
}

export interface PtzStatus {
  camera_id: number;
  position: PtzPosition;
  moving: boolean;
  pan_tilt_moving: boolean;
  zoom_moving: boolean;
  lock: PtzLock | null;
}

export interface PtzCommand {
  camera_id: number;
  lock: PtzLock | null;
  stops_at: string | null;
}

export interface PtzPreset {
  token: string;
  name: string;
  position: PtzPosition | null;
}

export interface TimeRange {
  start: string;
  end: string;
}

export interface TimelineEvent {
  id: number;
  type: string;
  start: string;
  end: string | null;
  kept: boolean;
}

export interface Timeline {
  camera_id: number;
  start: string;
  end: string;
  recordings: TimeRange[];
  events: TimelineEvent[];
  segments: { id: number; start: string; end: string; kind: string }[];
  /** Summary answers only (`resolution_s`): stretches without recording and why. */
  gaps?: { start: string; end: string; cause: string }[];
  events_truncated?: boolean;
  /** Stretches restored from the camera's own storage after an outage (ANR backfill). */
  backfilled?: TimeRange[];
  /** What the recorder is still writing (not indexed yet), up to its last fragment. */
  growing?: TimeRange[];
}

export interface ArgusEvent {
  id: number;
  source_id: string;
  camera_id: number | null;
  type: string;
  severity: string;
  started_at: string;
  ended_at: string | null;
  payload: Record<string, unknown>;
  snapshot_path: string | null;
  kept: boolean;
  created_at: string;
}

export type AlertState = 'open' | 'acked' | 'resolved';
export type Severity = 'info' | 'warning' | 'critical';

export interface Alert {
  id: number;
  kind: string;
  severity: Severity;
  state: AlertState;
  camera_id: number | null;
  event_id: number | null;
  title: string;
  detail: string;
  payload: Record<string, unknown>;
  created_at: string;
  acked_at: string | null;
  acked_by: number | null;
  resolved_at: string | null;
}

export interface User {
  id: number;
  username: string;
  email: string | null;
  is_active: boolean;
  roles: string[];
  created_at: string;
  updated_at: string;
  password_changed_at: string | null;
  last_login_at: string | null;
}

export interface Role {
  id: number;
  name: string;
  description: string;
  ptz_priority: number;
  permissions: string[];
}

export interface Grants {
  user_id: number;
  camera_ids: number[];
  group_ids: number[];
  effective_camera_ids: number[];
  sees_all_cameras: boolean;
}

export interface CameraGroup {
  id: number;
  name: string;
  camera_ids: number[];
}

export interface AuditEntry {
  id: number;
  ts: string;
  user_id: number | null;
  username: string | null;
  ip: string | null;
  user_agent: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  summary: Record<string, unknown>;
  result: string;
}


export interface DiscoveredDevice {
  endpoint_reference: string;
  xaddrs: string[];
  host: string | null;
  port: number | null;
  name: string | null;
  hardware: string | null;
  scopes: string[];
  address: string;
  registered: boolean;
  camera_id: number | null;
}

export interface OnvifProfile {
  token: string;
  name: string;
  encoding: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  has_ptz: boolean;
  stream_uri: string | null;
}

export interface ProbeResult {
  host: string;
  port: number;
  device: { manufacturer: string; model: string; firmware_version: string; serial_number: string };
  profiles: OnvifProfile[];
  main_profile: string | null;
  sub_profile: string | null;
  ptz: { supported: boolean; profile: string | null; presets: { token: string; name: string }[] };
}
