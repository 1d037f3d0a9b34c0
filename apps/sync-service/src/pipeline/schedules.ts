/**
 * Connectors' scheduled tasks (polling, reconciliation). Each task runs at most once per interval
 * across every replica: the run happens under a database lock and only when the task's last-run
 * cursor is older than the interval.
 */
import type { Database } from "../database/database-types.ts";
import {
  type ConnectorRunnerDependencies,
  createConnectorContext,
  serializeError,
} from "./connector-runner.ts";

export function startSchedules(
  dependencies: ConnectorRunnerDependencies & { database: Database },
): () => void {
  const timers: NodeJS.Timeout[] = [];
  for (const [name, connector] of dependencies.connectors) {
    for (const task of connector.schedules ?? []) {
      const cursorName = `schedule:${name}:${task.name}`;
      const logger = dependencies.logger.child({ connector: name, schedule: task.name });
      let running = false;
      const tick = async () => {
        if (running || dependencies.signal.aborted) return;
        running = true;
        try {
          await dependencies.database.withLock(cursorName, async () => {
            const last = await dependencies.mappingStore.getCursor(cursorName);
            if (last !== undefined && Date.now() - Number(last) < task.intervalSeconds * 1000) return;
            await task.run(createConnectorContext(dependencies, name, undefined, logger as never));
            await dependencies.mappingStore.setCursor(cursorName, String(Date.now()));
          });
        } catch (error) {
          logger.error({ error: serializeError(error) }, "scheduled task failed");
        } finally {
          running = false;
        }
      };
      const timer = setInterval(() => void tick(), Math.max(1, Math.min(task.intervalSeconds, 60)) * 1000);
      timer.unref();
      timers.push(timer);
      void tick();
    }
  }
  return () => {
    for (const timer of timers) clearInterval(timer);
  };
}
