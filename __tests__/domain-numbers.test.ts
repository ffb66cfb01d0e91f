import { numberText } from '../src/domain/numbers';

describe('numberText()', () => {
  it('is exactly String(n) for every tenth from 0 to 100 and the numbers around them', () => {
    for (let k = 0; k <= 1000; k++) {
      const n = k / 10;
      expect(numberText(n)).toBe(String(n));
      // Neighbours that round to the same tenth but are other doubles take String().
      for (const m of [n + 1e-9, n - 1e-9, n + Number.EPSILON * 64, 0.1 * k]) expect(numberText(m)).toBe(String(m));
    }
  });

  it('falls back to String(n) outside the table', () => {
    for (const n of [-0, -0.5, -1, 100.1, 1e21, 1e-7, 0.1 + 0.2, 2 ** 53, 63.45]) expect(numberText(n)).toBe(String(n));
  });
});
