/**
 * What this page has learnt about WebRTC: when several WHEP attempts never delivered a frame
 * (UDP blocked, a streaming container without host networking) and none ever did, new
 * players start on HLS instead of waiting for their own WebRTC attempts to time out.
 */

import type { Transport } from './playerMachine';

const TIMEOUTS_BEFORE_HLS_FIRST = 3;
let succeeded = false;
let timeouts = 0;

export function noteWebrtc(delivered: boolean): void {
  if (delivered) {
    succeeded = true;
    timeouts = 0;
  } else {
    timeouts += 1;
  }
}

export function preferredTransport(): Transport {
  return !succeeded && timeouts >= TIMEOUTS_BEFORE_HLS_FIRST ? 'hls' : 'webrtc';
}

/** For tests. */
export function resetTransportHint(): void {
  succeeded = false;
  timeouts = 0;
}
