import { createTask, type ScheduledTask } from 'node-cron';

/** When daemon cycles start: every `interval_seconds`, or on the ticks of `pipeline.schedule`. */
export interface CycleSchedule {
  readonly description: string;
  /** Call when a cycle starts: when the next one is due (it may be in the past after an overrun). */
  nextStartMs(cycleStartedMs: number): number;
  close(): void;
}

export function createSchedule(pipeline: {
  intervalSeconds: number;
  schedule?: string | undefined;
}): CycleSchedule {
  const { schedule } = pipeline;
  if (schedule === undefined) {
    return {
      description: `every ${pipeline.intervalSeconds}s`,
      nextStartMs: (startedMs) => startedMs + pipeline.intervalSeconds * 1000,
      close: () => undefined,
    };
  }
  // node-cron only as the calendar (its own timers stay off): the daemon loop does the waiting,
  // so a slow cycle delays the next one instead of overlapping it.
  const task: ScheduledTask = createTask(schedule, () => undefined);
  return {
    description: `on the cron schedule "${schedule}"`,
    nextStartMs: (startedMs) => {
      const next = task.getNextRuns(2).find((d) => d.getTime() > startedMs);
      return next?.getTime() ?? startedMs + pipeline.intervalSeconds * 1000;
    },
    close: () => void task.destroy(),
  };
}
