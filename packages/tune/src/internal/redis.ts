import type { Redis } from 'ioredis';

/** Keys of one study's state (outside BullMQ's own `bull:` keys). */
export function studyKeys(prefix: string, study: string) {
  const base = `${prefix}:${study}`;
  return {
    meta: `${base}:meta`,
    submitted: `${base}:submitted`,
    results: `${base}:results`,
  };
}

/** The BullMQ job id of a trial (idempotent: adding it twice queues it once). */
export function jobId(study: string, number: number): string {
  return `${study}--${number}`;
}

/**
 * A connection for BullMQ and for the study's keys: retries every command across a Redis
 * restart instead of failing it (BullMQ requires maxRetriesPerRequest: null for workers).
 */
export async function connect(url: string): Promise<Redis> {
  const { Redis } = await import('ioredis');
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(50 * times, 1000),
  });
}
