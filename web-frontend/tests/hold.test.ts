import { describe, expect, it } from 'vitest';
import { HoldController } from '../src/ptz/hold';

function setup(moveDelay = 0) {
  const log: string[] = [];
  let tick: (() => void) | null = null;
  const hold = new HoldController({
    move: async (v, s) => {
      await new Promise((r) => setTimeout(r, moveDelay));
      log.push(`move ${JSON.stringify(v)} ${s}s`);
    },
    stop: async () => { log.push('stop'); },
    onError: (e) => log.push(`error ${String(e)}`),
    setInterval: (fn) => { tick = fn; return 1; },
    clearInterval: () => { tick = null; },
  });
  return { hold, log, tick: () => tick?.() };
}

describe('press-and-hold PTZ', () => {
  it('moves while held and stops on release', async () => {
    const { hold, log } = setup();
    hold.press({ pan: 0.5 });
    hold.release();
    await hold.idle();
    expect(log).toEqual(['move {"pan":0.5} 3s', 'stop']);
  });

  it('never sends stop before a slow move', async () => {
    const { hold, log } = setup(20);
    hold.press({ tilt: -0.5 });
    hold.release();
    await hold.idle();
    expect(log).toEqual(['move {"tilt":-0.5} 3s', 'stop']);
  });

  it('re-sends the move while the hold lasts, stops re-sending after release', async () => {
    const { hold, log, tick } = setup();
    hold.press({ zoom: 1 });
    tick();
    tick();
    hold.release();
    tick();
    await hold.idle();
    expect(log.filter((l) => l.startsWith('move'))).toHaveLength(3);
    expect(log.at(-1)).toBe('stop');
  });

  it('stops once however many release paths fire (pointerup, blur, hidden tab)', async () => {
    const { hold, log } = setup();
    hold.press({ pan: -1 });
    hold.release();
    hold.release();
    hold.release();
    await hold.idle();
    expect(log.filter((l) => l === 'stop')).toHaveLength(1);
    expect(hold.holding).toBe(false);
  });

  it('does not resend a move for the same control pressed again', async () => {
    const { hold, log } = setup();
    hold.press({ pan: 1 });
    hold.press({ pan: 1 });
    hold.release();
    await hold.idle();
    expect(log).toEqual(['move {"pan":1} 3s', 'stop']);
  });

  it('reports errors and keeps going', async () => {
    const log: string[] = [];
    const hold = new HoldController({
      move: async () => { throw new Error('409 held by bob'); },
      stop: async () => { log.push('stop'); },
      onError: (e) => log.push(String(e)),
      setInterval: () => 1, clearInterval: () => undefined,
    });
    hold.press({ pan: 1 });
    hold.release();
    await hold.idle();
    expect(log).toEqual(['Error: 409 held by bob', 'stop']);
  });
});
