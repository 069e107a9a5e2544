/** Direction pad and zoom: press and hold to move, release (anywhere) to stop. */

import { useEffect, useMemo, useRef, type KeyboardEvent, type PointerEvent,
  type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Velocity } from '../api/ptz';
import { IconArrow, IconMinus, IconPlus } from '../components/icons';
import { HoldController } from './hold';

interface PadProps {
  speed: number;
  disabled: boolean;
  /** Called before the first move of a hold; false cancels it (no lock). */
  beforeMove(): Promise<boolean>;
  move(v: Velocity, timeoutS: number): Promise<unknown>;
  stop(): Promise<unknown>;
  onError(err: unknown): void;
  onStopped(): void;
}

export function PtzPad(p: PadProps) {
  const { t } = useTranslation();
  const props = useRef(p);
  props.current = p;
  const hold = useMemo(() => new HoldController({
    move: (v, s) => props.current.move(v, s),
    stop: async () => {
      await props.current.stop();
      props.current.onStopped();
    },
    onError: (err) => props.current.onError(err),
  }), []);
  const pressed = useRef<string | null>(null);

  // Stop when the pointer is released outside, the window loses focus or the tab is hidden.
  useEffect(() => {
    const release = () => {
      pressed.current = null;
      hold.release();
    };
    const hidden = () => {
      if (document.hidden) release();
    };
    window.addEventListener('pointerup', release);
    window.addEventListener('pointercancel', release);
    window.addEventListener('blur', release);
    document.addEventListener('visibilitychange', hidden);
    return () => {
      window.removeEventListener('pointerup', release);
      window.removeEventListener('pointercancel', release);
      window.removeEventListener('blur', release);
      document.removeEventListener('visibilitychange', hidden);
      release();
    };
  }, [hold]);

  const start = async (id: string, v: Velocity) => {
    if (pressed.current === id) return;
    pressed.current = id;
    if (!(await props.current.beforeMove())) {
      pressed.current = null;
      return;
    }
    if (pressed.current === id) hold.press(v);
  };
  const end = () => {
    pressed.current = null;
    hold.release();
  };

  const s = p.speed;
  const control = (id: string, v: Velocity, label: string, icon: ReactNode) => ({
    key: id,
    type: 'button' as const,
    className: `ptz-btn ptz-${id}`,
    'aria-label': label,
    title: label,
    disabled: p.disabled,
    'data-ptz': id,
    onPointerDown: (e: PointerEvent<HTMLButtonElement>) => {
      if (e.button !== 0) return;
      e.currentTarget.setPointerCapture?.(e.pointerId);
      void start(id, v);
    },
    onPointerUp: end,
    onLostPointerCapture: end,
    onKeyDown: (e: KeyboardEvent<HTMLButtonElement>) => {
      if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) {
        e.preventDefault();
        void start(id, v);
      }
    },
    onKeyUp: (e: KeyboardEvent<HTMLButtonElement>) => {
      if (e.key === ' ' || e.key === 'Enter') end();
    },
    onBlur: end,
    onContextMenu: (e: { preventDefault(): void }) => e.preventDefault(),
    children: icon,
  });

  return (
    <div className="ptz-pad-wrap">
      <div className="ptz-pad" role="group" aria-label={t('ptz.direction')}>
        <button {...control('up', { tilt: s }, t('ptz.up'), <IconArrow dir="up" size={22} />)} />
        <button {...control('left', { pan: -s }, t('ptz.left'), <IconArrow dir="left" size={22} />)} />
        <span className="ptz-center" aria-hidden="true" />
        <button {...control('right', { pan: s }, t('ptz.right'), <IconArrow dir="right" size={22} />)} />
        <button {...control('down', { tilt: -s }, t('ptz.down'), <IconArrow dir="down" size={22} />)} />
      </div>
      <div className="ptz-zoom" role="group" aria-label={t('ptz.zoom')}>
        <button {...control('zoomin', { zoom: s }, t('ptz.zoomIn'), <IconPlus size={20} />)} />
        <button {...control('zoomout', { zoom: -s }, t('ptz.zoomOut'), <IconMinus size={20} />)} />
      </div>
    </div>
  );
}
