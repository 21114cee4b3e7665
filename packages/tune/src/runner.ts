import type { Direction, TrialRecord, TrialTask } from './trial';

/** What a runner is told about the study it runs trials for (stored with persistent studies). */
export interface StudyMeta {
  name: string;
  direction: Direction;
  seed: number;
  concurrency: number;
  space: Record<string, unknown>;
  sampler: Record<string, unknown>;
  pruner: Record<string, unknown>;
}

/** Trials the runner already knows of when a study (re)opens. */
export interface OpenedStudy {
  /** Finished trials (a persistent runner resuming a study). */
  finished: TrialRecord[];
  /** Trials submitted before and still queued or running. */
  pending: number[];
}

/**
 * Runs trials for a study: in this process, on worker threads, or on worker processes through
 * a queue. The study submits tasks and takes finished records; a record may arrive twice (a
 * retried trial), and the study counts each trial number once.
 */
export interface Runner {
  open(meta: StudyMeta): Promise<OpenedStudy>;
  submit(task: TrialTask): Promise<void>;
  /** The next finished trial. */
  next(): Promise<TrialRecord>;
  close(): Promise<void>;
}
