import { type GcPause, stallCauses, tailClustering } from './tail.js';

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

  it('should take a run of half a million requests (a fixed-JSON server in 8 s)', () => {
    const many = Array.from({ length: 500_000 }, (_, i): [number, number] => [i / 50, i % 50 === 0 ? 9 : 1]);
    expect(tailClustering(many)).toMatchObject({ slow: 10_000, windows: 500, ofWindows: 500 });
  });
});

describe('stallCauses', () => {
  const stalls = [1000, 5000, 9000];
  const stalled = run((at) => (stalls.some((s) => at >= s && at < s + 40) ? 60 : null));
  const gc = (kind: string, ...starts: number[]): GcPause[] => starts.map((at) => ({ at, ms: 8, kind }));

  it('should tie bursts of slow requests to the major GCs that started just before them', () => {
    const causes = stallCauses(stalled, [...gc('major', 990, 4985, 8999), ...gc('minor', 2000, 2040, 2080)])!;
    expect(causes).toMatchObject({ bursts: 6, afterMajorGc: 6, majorGcs: 3, lookbackMs: 60 });
    expect(causes.baseShare).toBeLessThan(0.03);
  });

  it('should not tie them to major GCs elsewhere in the run, nor to minor ones', () => {
    const causes = stallCauses(stalled, [...gc('major', 3000, 7000), ...gc('minor', 995, 4995, 8995)])!;
    expect(causes).toMatchObject({ bursts: 6, afterMajorGc: 0, majorGcs: 2 });
  });

  it('should say null for a run without requests', () => {
    expect(stallCauses([], gc('major', 1))).toBeNull();
  });
});
