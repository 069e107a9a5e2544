/** Inline SVG icons (no icon font, nothing loaded from the network). Decorative: aria-hidden. */

import type { ReactElement } from 'react';

interface IconProps {
  size?: number;
}

function svg(path: ReactElement, size = 18, viewBox = '0 0 24 24') {
  return (
    <svg width={size} height={size} viewBox={viewBox} fill="none" stroke="currentColor"
      strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true"
      focusable="false">{path}</svg>
  );
}

export const Logo = ({ size = 28 }: IconProps) => (
  <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
    <rect width="32" height="32" rx="7" fill="#0b1220" />
    <ellipse cx="16" cy="16" rx="12" ry="7" fill="none" stroke="#38bdf8" strokeWidth="2.5" />
    <circle cx="16" cy="16" r="4" fill="#38bdf8" />
  </svg>
);

export const IconGrid = ({ size }: IconProps) => svg(<><rect x="3" y="3" width="7" height="7" />
  <rect x="14" y="3" width="7" height="7" /><rect x="3" y="14" width="7" height="7" />
  <rect x="14" y="14" width="7" height="7" /></>, size);
export const IconPlayback = ({ size }: IconProps) => svg(<><circle cx="12" cy="12" r="9" />
  <polyline points="12 7 12 12 15 14" /></>, size);
export const IconBell = ({ size }: IconProps) => svg(<><path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />
  <path d="M13.7 21a2 2 0 0 1-3.4 0" /></>, size);
export const IconList = ({ size }: IconProps) => svg(<><line x1="8" y1="6" x2="21" y2="6" />
  <line x1="8" y1="12" x2="21" y2="12" /><line x1="8" y1="18" x2="21" y2="18" />
  <circle cx="4" cy="6" r="1" /><circle cx="4" cy="12" r="1" /><circle cx="4" cy="18" r="1" /></>, size);
export const IconSettings = ({ size }: IconProps) => svg(<><circle cx="12" cy="12" r="3" />
  <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" /></>, size);
export const IconUser = ({ size }: IconProps) => svg(<><circle cx="12" cy="8" r="4" />
  <path d="M4 21v-1a7 7 0 0 1 16 0v1" /></>, size);
export const IconFullscreen = ({ size }: IconProps) => svg(<><polyline points="4 9 4 4 9 4" />
  <polyline points="20 9 20 4 15 4" /><polyline points="4 15 4 20 9 20" />
  <polyline points="20 15 20 20 15 20" /></>, size);
export const IconClose = ({ size }: IconProps) => svg(<><line x1="6" y1="6" x2="18" y2="18" />
  <line x1="18" y1="6" x2="6" y2="18" /></>, size);
export const IconPlus = ({ size }: IconProps) => svg(<><line x1="12" y1="5" x2="12" y2="19" />
  <line x1="5" y1="12" x2="19" y2="12" /></>, size);
export const IconMinus = ({ size }: IconProps) => svg(<line x1="5" y1="12" x2="19" y2="12" />, size);
export const IconArrow = ({ size, dir }: IconProps & { dir: 'up' | 'down' | 'left' | 'right' }) => {
  const rot = { up: 0, right: 90, down: 180, left: 270 }[dir];
  return svg(<g transform={`rotate(${rot} 12 12)`}><polyline points="6 14 12 8 18 14" /></g>, size);
};
export const IconHome = ({ size }: IconProps) => svg(<><path d="M3 11l9-8 9 8" />
  <path d="M5 10v10h14V10" /></>, size);
export const IconLock = ({ size }: IconProps) => svg(<><rect x="5" y="11" width="14" height="10" rx="2" />
  <path d="M8 11V7a4 4 0 0 1 8 0v4" /></>, size);
export const IconChevron = ({ size, dir }: IconProps & { dir: 'left' | 'right' }) =>
  svg(<polyline points={dir === 'left' ? '15 18 9 12 15 6' : '9 18 15 12 9 6'} />, size);
export const IconCamera = ({ size }: IconProps) => svg(<><path d="M23 7l-7 5 7 5V7z" />
  <rect x="1" y="5" width="15" height="14" rx="2" /></>, size);
export const IconSiren = ({ size }: IconProps) => svg(<><path d="M7 18v-6a5 5 0 0 1 10 0v6" />
  <rect x="4" y="18" width="16" height="3" rx="1" /><line x1="12" y1="2" x2="12" y2="4" />
  <line x1="4.2" y1="5.2" x2="5.6" y2="6.6" /><line x1="19.8" y1="5.2" x2="18.4" y2="6.6" /></>, size);
export const IconEnlarge = ({ size }: IconProps) => svg(<><polyline points="15 3 21 3 21 9" />
  <polyline points="9 21 3 21 3 15" /><line x1="21" y1="3" x2="14" y2="10" />
  <line x1="3" y1="21" x2="10" y2="14" /></>, size);
export const IconShrink = ({ size }: IconProps) => svg(<><polyline points="4 14 10 14 10 20" />
  <polyline points="20 10 14 10 14 4" /><line x1="14" y1="10" x2="21" y2="3" />
  <line x1="3" y1="21" x2="10" y2="14" /></>, size);
export const IconSearch = ({ size }: IconProps) => svg(<><circle cx="11" cy="11" r="7" />
  <line x1="21" y1="21" x2="16.5" y2="16.5" /></>, size);
export const IconCheck = ({ size }: IconProps) => svg(<polyline points="4 12 10 18 20 6" />, size);
export const IconExport = ({ size }: IconProps) => svg(<><path d="M12 3v12" />
  <polyline points="7 10 12 15 17 10" /><path d="M5 21h14" /></>, size);
