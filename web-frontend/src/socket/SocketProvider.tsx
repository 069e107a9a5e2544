/** One ConsoleSocket for the signed-in console, its status, and typed subscriptions. */

import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useEffectEvent, useState,
  type ReactNode } from 'react';
import { api } from '../api/client';
import { ConsoleSocket, socketUrl } from './consoleSocket';
import type { Channel, SocketChannels, SocketStatus } from './messages';
import { syncQueries } from './querySync';

interface SocketValue {
  socket: ConsoleSocket | null;
  status: SocketStatus;
}

const SocketContext = createContext<SocketValue>({ socket: null, status: 'closed' });

interface ProviderProps {
  children: ReactNode;
  /** Only users who may read events get the feed (the server answers 4403 otherwise). */
  enabled: boolean;
  /** Tests pass a socket over a fake WebSocket. */
  socket?: ConsoleSocket;
}

export function SocketProvider({ children, enabled, socket: given }: ProviderProps) {
  const [socket] = useState(() => given ?? new ConsoleSocket({
    url: socketUrl(), token: () => api.accessToken(), refresh: () => api.refresh(),
  }));
  const [status, setStatus] = useState<SocketStatus>('closed');
  const qc = useQueryClient();

  useEffect(() => {
    if (!enabled) return undefined;
    const offs = [socket.on('status', setStatus), syncQueries(socket, qc)];
    socket.start();
    return () => {
      offs.forEach((off) => off());
      socket.stop();
    };
  }, [enabled, socket, qc]);

  return <SocketContext.Provider value={{ socket: enabled ? socket : null, status }}>
    {children}</SocketContext.Provider>;
}

/** The connection state of the feed (for the header's indicator). */
export function useSocketStatus(): SocketStatus {
  return useContext(SocketContext).status;
}

/** Run `handler` for every frame of `channel` while the component is mounted. */
export function useSocketMessage<C extends Channel>(channel: C,
  handler: (value: SocketChannels[C]) => void): void {
  const { socket } = useContext(SocketContext);
  const onFrame = useEffectEvent(handler);
  useEffect(() => socket?.on(channel, (v) => onFrame(v)), [socket, channel]);
}
