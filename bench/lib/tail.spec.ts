import { tailClustering } from './tail.js';

/** 10,000 requests finishing over 10 s, 10 ms each, except where `slowAt` (finish time → latency) says otherwise. */
function run(slowAt: (at: number) => number | null): [number, number][] {
  return Array.from({ length: 10_000 }, (_, at) => [at, slowAt(at) ?? 10]); // one request per millisecond
}

describe('tailClustering', () => {
  it('should find a tail made by stalls in a few windows', () => {
    // Three stalls: everything finishing within 40 ms after 1 s, 5 s and 9 s took 60 ms.
    const result = tailClustering(run((at) => ([1000, 5000, 9000].some((s) => at >= s && at < s + 40) ? 60 : null)))!;
    expect(result.slow).toBe(120);
    expect(result.windows).toBe(6);
    expect(result.windowsIfSpread).toBeGreaterThan(100);
    expect(result.ofWindows).toBe(500);
  });

  it('should find a tail of evenly spread slow requests spread out', () => {
    const result = tailClustering(run((at) => (at % 97 === 0 ? 60 : null)))!;
    expect(result.slow).toBe(104);
    expect(result.windows).toBe(104);
  });

  it('should say null for a run without requests', () => {
    expect(tailClustering([])).toBeNull();
  });
});
