/**
 * Press-and-hold PTZ: a continuous move while a control is held, stopped on release.
 *
 * The server ends every continuous move after `timeout_s` (so a lost release can never leave
 * a camera turning), so a long hold re-sends the move before that. Commands go out in order:
 * a release sends Stop after the move it follows, never before.
 */

import type { Velocity } from '../api/ptz';

export interface HoldDeps {
  move(v: Velocity, timeoutS: number): Promise<unknown>;
  stop(): Promise<unknown>;
  onError(err: unknown): void;
  /** Re-send the move this often while held. */
  repeatMs?: number;
  /** Each move lasts at most this long on the server. */
  moveTimeoutS?: number;
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (h: unknown) => void;
}

function same(a: Velocity | null, b: Velocity | null): boolean {
  return a !== null && b !== null && (a.pan ?? 0) === (b.pan ?? 0)
    && (a.tilt ?? 0) === (b.tilt ?? 0) && (a.zoom ?? 0) === (b.zoom ?? 0);
}

export class HoldController {
  private active: Velocity | null = null;
  private timer: unknown = null;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly repeatMs: number;
  private readonly timeoutS: number;
  private readonly setI: (fn: () => void, ms: number) => unknown;
  private readonly clearI: (h: unknown) => void;

  constructor(private readonly deps: HoldDeps) {
    this.repeatMs = deps.repeatMs ?? 1500;
    this.timeoutS = deps.moveTimeoutS ?? 3;
    this.setI = deps.setInterval ?? ((fn, ms) => setInterval(fn, ms));
    this.clearI = deps.clearInterval
      ?? ((h) => clearInterval(h as ReturnType<typeof setInterval>));
  }

  get holding(): boolean {
    return this.active !== null;
  }

  /** Start (or change) the move; pressing the same control again changes nothing. */
  press(v: Velocity): void {
    if (same(this.active, v)) return;
    this.active = v;
    this.enqueue(() => this.deps.move(v, this.timeoutS));
    if (this.timer !== null) this.clearI(this.timer);
    this.timer = this.setI(() => {
      if (this.active) {
        const current = this.active;
        this.enqueue(() => this.deps.move(current, this.timeoutS));
      }
    }, this.repeatMs);
  }

  /** Stop the move (safe to call any number of times, from any release path). */
  release(): void {
    if (this.timer !== null) this.clearI(this.timer);
    this.timer = null;
    if (this.active === null) return;
    this.active = null;
    this.enqueue(() => this.deps.stop());
  }

  /** Resolves when every command sent so far has been answered. */
  idle(): Promise<void> {
    return this.chain.then(() => undefined);
  }

  private enqueue(command: () => Promise<unknown>): void {
    this.chain = this.chain.then(command).catch((err: unknown) => {
      this.deps.onError(err);
    });
  }
}
