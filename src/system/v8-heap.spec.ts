import { jest } from '@jest/globals';
import { applyHeapGrowingPercent } from './v8-heap.js';

describe(applyHeapGrowingPercent.name, () => {
  it('should set V8 heap growing factor to the configured percent', () => {
    const set = jest.fn<(flags: string) => void>();
    applyHeapGrowingPercent(100, set);
    expect(set).toHaveBeenCalledWith('--heap-growing-percent=100');
  });

  it("should leave V8's own factor alone when the percent is 0", () => {
    const set = jest.fn<(flags: string) => void>();
    applyHeapGrowingPercent(0, set);
    expect(set).not.toHaveBeenCalled();
  });
});
