/**
 * The guide's Appendix A ("Connection Broker Job Limits"), row by row, and the values the
 * CDK code and the retry policy take from it.
 */
import { describe, expect, it } from 'vitest';
import {
  belowLoadLimit,
  maxJobs,
  maxLoad,
  retryDelaySeconds,
  sqsMaxConcurrency,
} from '../../functions/core/jobs/limits.ts';

/** CPUs, maximum concurrent jobs, maximum load average: the table as the guide prints it. */
const APPENDIX_A: readonly [number, number, number][] = [
  [2, 12, 3],
  [3, 16, 4.1],
  [4, 20, 5.2],
  [5, 24, 6.3],
  [6, 28, 7.4],
  [7, 32, 8.5],
  [8, 36, 9.6],
  [9, 40, 10.7],
  [10, 44, 11.8],
  [12, 52, 14],
  [16, 68, 18.4],
  [32, 132, 36],
  [64, 260, 71.2],
  [128, 516, 141.6],
  [256, 1028, 282.4],
];

describe('job limits (Appendix A)', () => {
  it.each(APPENDIX_A)('%i CPUs: %i jobs, load %d', (cpus, jobs, load) => {
    expect(maxJobs(cpus)).toBe(jobs);
    expect(maxLoad(cpus)).toBe(load);
  });

  it('starts jobs only below the maximum load, not at it ("until the load average is below")', () => {
    expect(belowLoadLimit(2.9, 2)).toBe(true);
    expect(belowLoadLimit(3, 2)).toBe(false);
    expect(belowLoadLimit(3.1, 2)).toBe(false);
    expect(belowLoadLimit(4, 3)).toBe(true);
    expect(belowLoadLimit(4.1, 3)).toBe(false);
  });

  it('refuses a CPU count that is not a positive integer', () => {
    expect(() => maxJobs(0)).toThrow(RangeError);
    expect(() => maxLoad(1.5)).toThrow(RangeError);
  });

  it('clamps the SQS maximum concurrency to the 2..1000 Lambda accepts', () => {
    expect(sqsMaxConcurrency(1)).toBe(8);
    expect(sqsMaxConcurrency(2)).toBe(12);
    expect(sqsMaxConcurrency(249)).toBe(1000);
    expect(sqsMaxConcurrency(256)).toBe(1000);
  });

  it('backs off exponentially up to the maximum', () => {
    const policy = { baseSeconds: 10, maxSeconds: 60 };
    expect([1, 2, 3, 4, 5].map((n) => retryDelaySeconds(n, policy))).toEqual([10, 20, 40, 60, 60]);
    expect(retryDelaySeconds(1)).toBe(10);
  });
});
