import { gcSecondsIn } from './gc.js';

describe('gcSecondsIn', () => {
  it('should add up the GC pause sums of every kind, and ignore other series', () => {
    const text = [
      '# TYPE nodejs_gc_duration_seconds histogram',
      'nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 3',
      'nodejs_gc_duration_seconds_sum{kind="minor"} 0.25',
      'nodejs_gc_duration_seconds_count{kind="minor"} 100',
      'nodejs_gc_duration_seconds_sum{kind="major"} 0.5',
      'nodejs_gc_duration_seconds_sum{kind="incremental"} 1.25e-1',
      'nodejs_eventloop_lag_p99_seconds 0.9',
    ].join('\n');
    expect(gcSecondsIn(text)).toBeCloseTo(0.875, 9);
  });

  it('should say null when the service reports no GC series', () => {
    expect(gcSecondsIn('process_resident_memory_bytes 1000\n')).toBeNull();
  });
});
