// DynamicLossScaler against DeepSpeed's semantics. The expected scales of the walks below were
// worked out by hand from deepspeed/runtime/fp16/loss_scaler.py (DynamicLossScaler.update_scale);
// the fixture holds what DeepSpeed's class itself did on 21 random walks
// (tools/precision/deepspeed_loss_scaler.py runs it with stand-ins for torch and deepspeed.comm).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DynamicLossScaler,
  type DynamicLossScalerOptions,
  LossScaleAtMinimumError,
  StaticLossScaler,
} from './loss-scaler';

const O = true; // an iteration whose gradients overflowed
const C = false; // a clean one

const opts = (o: Partial<DynamicLossScalerOptions> = {}): DynamicLossScalerOptions => ({
  initialScalePower: 16,
  lossScaleWindow: 1000,
  hysteresis: 2,
  minLossScale: 1,
  consecutiveHysteresis: false,
  ...o,
});

/** The scale after each update of the walk. */
function walk(o: Partial<DynamicLossScalerOptions>, steps: boolean[]): number[] {
  const s = new DynamicLossScaler(opts(o));
  return steps.map((overflow) => {
    s.update(overflow);
    return s.scale;
  });
}

describe('DynamicLossScaler (DeepSpeed semantics)', () => {
  it('starts at 2^initial_scale_power', () => {
    expect(new DynamicLossScaler(opts()).scale).toBe(65536);
    expect(new DynamicLossScaler(opts({ initialScalePower: 32 })).scale).toBe(2 ** 32);
  });

  it('doubles first on the (window + 1)-th clean update, then every window', () => {
    // update k sees stable = k - (-1) - 1 = k: doubles at k = 2, 4, 6
    expect(walk({ initialScalePower: 4, lossScaleWindow: 2, hysteresis: 1 }, [C, C, C, C, C, C, C])).toEqual([
      16, 16, 32, 32, 64, 64, 128,
    ]);
  });

  it('after an overflow, doubles again on the (window + 1)-th clean update', () => {
    // overflow at iter 0 (16 → 8); clean iters 1..4 have stable 0, 1, 2, 3: doubles at iter 4, then 7
    const steps = [O, C, C, C, C, C, C, C];
    expect(walk({ initialScalePower: 4, lossScaleWindow: 3, hysteresis: 1 }, steps)).toEqual([
      8, 8, 8, 8, 16, 16, 16, 32,
    ]);
  });

  it('hysteresis 2: the first overflow only uses up the countdown, later ones halve', () => {
    const s = new DynamicLossScaler(opts());
    s.update(O);
    expect([s.scale, s.curHysteresis]).toEqual([65536, 1]);
    s.update(O);
    expect([s.scale, s.curHysteresis]).toEqual([32768, 1]);
    s.update(O);
    expect([s.scale, s.curHysteresis]).toEqual([16384, 1]); // the countdown stays used up
  });

  it('without consecutive_hysteresis a clean step does not refill the countdown', () => {
    expect(walk({}, [O, C, O])).toEqual([65536, 65536, 32768]);
  });

  it('with consecutive_hysteresis every clean step refills it', () => {
    expect(walk({ consecutiveHysteresis: true }, [O, C, O, O])).toEqual([65536, 65536, 65536, 32768]);
  });

  it('without consecutive_hysteresis the countdown is refilled when the scale doubles', () => {
    // O: countdown 1; C C C: stable 0, 1, 2 → doubles at the third (window 2), countdown back to 2;
    // O: countdown 1, scale kept; O: halves
    const steps = [O, C, C, C, O, O];
    expect(walk({ initialScalePower: 4, lossScaleWindow: 2 }, steps)).toEqual([16, 16, 16, 32, 32, 16]);
  });

  it('halves no lower than min_loss_scale, and an overflow at the minimum stops the run', () => {
    const s = new DynamicLossScaler(opts({ initialScalePower: 3, hysteresis: 1, minLossScale: 3 }));
    s.update(O);
    expect(s.scale).toBe(4);
    s.update(O);
    expect(s.scale).toBe(3); // max(4 / 2, 3)
    expect(() => s.update(O)).toThrow(LossScaleAtMinimumError);
    expect(() => s.update(O)).toThrow(/min_loss_scale = 3.*the run stops/);
  });

  it('at the minimum, hysteresis still absorbs overflows before the run stops', () => {
    const s = new DynamicLossScaler(opts({ initialScalePower: 0, hysteresis: 2 }));
    s.update(O); // countdown 2 → 1, no halving, no error
    expect(s.scale).toBe(1);
    expect(() => s.update(O)).toThrow(LossScaleAtMinimumError);
  });

  it('raiseErrorAtMinScale: false stays at the minimum instead', () => {
    const s = new DynamicLossScaler(opts({ initialScalePower: 1, hysteresis: 1, raiseErrorAtMinScale: false }));
    for (let i = 0; i < 3; i++) s.update(O);
    expect(s.scale).toBe(1);
  });

  it('state() and load() resume the same walk', () => {
    const steps = [O, C, C, O, C, C, C, C, O, C, C, C, C, C];
    const o = { initialScalePower: 8, lossScaleWindow: 2, hysteresis: 2 };
    const whole = walk(o, steps);
    const a = new DynamicLossScaler(opts(o));
    for (const x of steps.slice(0, 6)) a.update(x);
    const b = new DynamicLossScaler(opts(o));
    b.load(JSON.parse(JSON.stringify(a.state())));
    const rest = steps.slice(6).map((x) => {
      b.update(x);
      return b.scale;
    });
    expect(rest).toEqual(whole.slice(6));
  });

  it("replays DeepSpeed's own class on 21 random walks", () => {
    const fixture = JSON.parse(readFileSync(new URL('./fixtures/deepspeed-loss-scaler.json', import.meta.url), 'utf8'));
    expect(fixture.cases.length).toBe(21);
    let errors = 0;
    for (const c of fixture.cases) {
      const s = new DynamicLossScaler(c.options);
      const scales: number[] = [];
      const hysteresis: number[] = [];
      let errorAt: number | null = null;
      for (const [i, overflow] of (c.overflows as boolean[]).entries()) {
        try {
          s.update(overflow);
        } catch (e) {
          expect(e).toBeInstanceOf(LossScaleAtMinimumError);
          errorAt = i;
          break;
        }
        scales.push(s.scale);
        hysteresis.push(s.curHysteresis);
      }
      expect({ scales, hysteresis, errorAt }).toEqual({
        scales: c.scales,
        hysteresis: c.hysteresis,
        errorAt: c.errorAt,
      });
      if (errorAt !== null) errors++;
    }
    expect(errors).toBeGreaterThan(3); // the walks do reach the minimum
  });
});

describe('StaticLossScaler (fp16.loss_scale > 0)', () => {
  it('keeps its scale whatever happens', () => {
    const s = new StaticLossScaler(128);
    for (const x of [O, O, O, C, O]) s.update(x);
    expect(s.scale).toBe(128);
    expect(s.dynamic).toBe(false);
  });

  it('refuses a scale that is not positive', () => {
    expect(() => new StaticLossScaler(0)).toThrow(/> 0/);
  });
});
