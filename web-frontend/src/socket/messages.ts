/**
 * Frames of `/ws/alerts`, typed by channel. The server sends `alert.<kind>` for alerts and
 * `ptz.lock` for lock changes; `export.*`, `wall.*` and `object.*` are the channels that
 * exports, video-wall commands and object events use, so their pages subscribe the same way.
 */

import type { Severity } from '../api/types';

export interface AlertFrame {
  type: string; // alert.<kind>
  id: string;
  camera_id: number | null;
  ts: string;
  alert_id: number | null;
  kind: string;
  severity: Severity;
  state: 'open' | 'acked' | 'resolved';
  title: string;
  detail: string;
  event_id: number | null;
  payload: Record<string, unknown>;
}

export interface PtzLockFrame {
  type: 'ptz.lock';
  camera_id: number;
  ts: string;
  holder_user_id: number | null;
  holder_username: string | null;
  priority: number | null;
  expires_at: string | null;
  previous_user_id: number | null;
  reason: 'acquired' | 'released' | 'expired' | 'takeover';
}

/** The common part of frames whose fields are defined by their own pages. */
export interface ChannelFrame {
  type: string;
  ts?: string;
  [field: string]: unknown;
}

/** `export.<state>`: an export job moved on. */
export interface ExportFrame extends ChannelFrame {
  export_id?: number;
  state?: string;
  progress?: number;
}

/** `wall.<command>`: a command for the wall monitors (show a layout, a camera). */
export interface WallFrame extends ChannelFrame {
  wall_id?: number;
  layout_id?: number | null;
  camera_id?: number | null;
}

/** `object.<kind>`: a detected object (person, vehicle) on a camera. */
export interface ObjectFrame extends ChannelFrame {
  camera_id?: number;
  label?: string;
  score?: number;
}

export type SocketStatus = 'connecting' | 'open' | 'closed' | 'forbidden';

/** Handlers' argument per channel. `ready`: (re)connected, anything missed must be reloaded. */
export interface SocketChannels {
  ready: { ping_interval_s?: number };
  status: SocketStatus;
  alert: AlertFrame;
  'ptz.lock': PtzLockFrame;
  export: ExportFrame;
  wall: WallFrame;
  object: ObjectFrame;
}

export type Channel = keyof SocketChannels;

const PREFIXED: readonly Channel[] = ['alert', 'export', 'wall', 'object'];

/** The channel of a frame's `type`, or null for frames the console does not handle. */
export function channelOf(type: string): Exclude<Channel, 'status'> | null {
  if (type === 'ready' || type === 'ptz.lock') return type;
  const dot = type.indexOf('.');
  const prefix = dot > 0 ? type.slice(0, dot) : '';
  const channel = PREFIXED.find((c) => c === prefix);
  return channel && channel !== 'status' ? channel as Exclude<Channel, 'status'> : null;
}
