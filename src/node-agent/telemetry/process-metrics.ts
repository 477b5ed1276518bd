/**
 * The process's own metrics, under the names of prom-client's default metrics (dashboards and
 * alerts written for them keep working): CPU, resident memory, V8 heap, event-loop lag, file
 * descriptors, start time, Node version. Only what is read at scrape time: prom-client's
 * `collectDefaultMetrics` would also keep a 10 ms event-loop sampling timer and a GC observer
 * that runs on every collection, and walk every handle at each scrape (docs/metrics.md lists
 * what is here).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Counter, Gauge, type Registry } from './prom.js';

/** The `Max open files` soft limit, or null where there is no procfs. */
function maxOpenFiles(): number | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const limit = Number(line?.split(/\s{2,}/)[1]);
    return Number.isFinite(limit) ? limit : null;
  } catch {
    return null;
  }
}

/** Open descriptors (without the one the listing itself used), or null where there is no procfs. */
function openFiles(): number | null {
  try {
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return null;
  }
}

function registerCpu(registers: Registry[]): void {
  let last = process.cpuUsage();
  // Registered first, so its collect sets all three before any is read.
  new Counter({
    name: 'process_cpu_user_seconds_total', help: 'Total user CPU time spent in seconds.', registers,
    collect(this: Counter) {
      const now = process.cpuUsage();
      const userS = (now.user - last.user) / 1e6;
      const systemS = (now.system - last.system) / 1e6;
      last = now;
      this.inc(userS);
      system.inc(systemS);
      total.inc(userS + systemS);
    },
  });
  const system = new Counter({ name: 'process_cpu_system_seconds_total', help: 'Total system CPU time spent in seconds.', registers });
  const total = new Counter({ name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.', registers });
}

function registerMemory(registers: Registry[]): void {
  new Gauge({
    name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', registers,
    collect(this: Gauge) {
      this.set(process.memoryUsage.rss());
    },
  });
  // Registered first, so its collect sets all three before any is read.
  new Gauge({
    name: 'nodejs_heap_size_total_bytes', help: 'Process heap size from Node.js in bytes.', registers,
    collect(this: Gauge) {
      const usage = process.memoryUsage();
      this.set(usage.heapTotal);
      heapUsed.set(usage.heapUsed);
      external.set(usage.external);
    },
  });
  const heapUsed = new Gauge({ name: 'nodejs_heap_size_used_bytes', help: 'Process heap size used from Node.js in bytes.', registers });
  const external = new Gauge({ name: 'nodejs_external_memory_bytes', help: 'Node.js external memory size in bytes.', registers });
}

export function registerProcessMetrics(registry: Registry): void {
  const registers = [registry];
  registerCpu(registers);
  registerMemory(registers);
  new Gauge({
    name: 'nodejs_eventloop_lag_seconds', help: 'Lag of the event loop in seconds: how long a callback waited for its turn at this scrape.', registers,
    async collect(this: Gauge) {
      const start = performance.now();
      await new Promise((resolve) => setImmediate(resolve));
      this.set((performance.now() - start) / 1000);
    },
  });
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  new Gauge({
    name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.', registers,
    collect(this: Gauge) {
      this.set(startSeconds);
    },
  });
  const maxFds = maxOpenFiles();
  if (maxFds !== null) {
    new Gauge({
      name: 'process_max_fds', help: 'Maximum number of open file descriptors.', registers,
      collect(this: Gauge) {
        this.set(maxFds);
      },
    });
  }
  if (openFiles() !== null) {
    new Gauge({
      name: 'process_open_fds', help: 'Number of open file descriptors.', registers,
      collect(this: Gauge) {
        this.set(openFiles() ?? 0);
      },
    });
  }
  const [major, minor, patch] = process.versions.node.split('.');
  new Gauge({ name: 'nodejs_version_info', help: 'Node.js version info.', labelNames: ['version', 'major', 'minor', 'patch'], registers })
    .set({ version: process.version, major, minor, patch }, 1);
}
