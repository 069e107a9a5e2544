/**
 * A wall monitor's own WebSocket (`WS /ws/wall-display`): the server says `wall.changed` when
 * this monitor's content (or credential) changed, and the page re-reads its state at once.
 * Same handshake, pings and reconnects as the console's socket (ConsoleSocket), with display
 * tokens: a 4401 (token expired, credential replaced or revoked) asks for a new token, which
 * tells the page when the credential itself is refused.
 */

import { useEffect, useEffectEvent, useState } from 'react';
import { ConsoleSocket, socketUrl } from '../socket/consoleSocket';
import type { SocketStatus } from '../socket/messages';

export const DISPLAY_SOCKET_PATH = '/ws/wall-display';

export interface DisplaySocketOptions {
  /** Display tokens (displayKey.ts): `renew` asks for a new one. */
  token: (renew: boolean) => Promise<string>;
  /** Called for each `wall.changed` of this monitor. */
  onChanged: () => void;
  /** Off while the credential is refused: nothing to reconnect with. */
  enabled: boolean;
  /** Tests pass a fake WebSocket. */
  createSocket?: (url: string, protocols: string[]) => WebSocket;
}

/** Keeps the socket open while enabled; returns its status and how many `wall.changed` it heard. */
export function useDisplaySocket({ token, onChanged, enabled, createSocket }:
  DisplaySocketOptions): { status: SocketStatus; changes: number } {
  const [status, setStatus] = useState<SocketStatus>('closed');
  const [changes, setChanges] = useState(0);
  const reread = useEffectEvent(() => onChanged());
  useEffect(() => {
    if (!enabled) return undefined;
    const socket = new ConsoleSocket({
      url: socketUrl(DISPLAY_SOCKET_PATH),
      token: () => token(false),
      refresh: async () => {
        await token(true);
      },
      createSocket,
    });
    const offs = [
      socket.on('status', setStatus),
      socket.on('wall', (frame) => {
        if (frame.type !== 'wall.changed') return;
        setChanges((n) => n + 1);
        reread();
      }),
      // (Re)connected: anything said while the socket was down is read now.
      socket.on('ready', () => reread()),
    ];
    socket.start();
    return () => {
      offs.forEach((off) => off());
      socket.stop();
      setStatus('closed');
    };
  }, [enabled, token, createSocket]);
  return { status, changes };
}
