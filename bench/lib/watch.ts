/**
 * Someone watching an agent, as `plexus tap` and `plexus stat` / the dashboard do: a tap that
 * takes up to 1,000 events a second (read and dropped) and a /metrics read every second. For
 * the bench row that shows what watching costs, beside the same agent unwatched.
 */
export interface Watcher {
  stop(): Promise<void>;
}

export async function watchAgent(adminPort: number): Promise<Watcher> {
  const controller = new AbortController();
  const response = await fetch(`http://127.0.0.1:${adminPort}/tap?rate=1000`, { signal: controller.signal });
  if (response.status !== 200 || response.body === null) throw new Error(`the agent refused the bench's tap: HTTP ${response.status}`);
  const body = response.body;
  const reading = (async () => {
    try {
      for await (const _chunk of body) { /* read and dropped */ }
    } catch {
      // Aborted by stop().
    }
  })();
  const scrape = setInterval(() => {
    void fetch(`http://127.0.0.1:${adminPort}/metrics`, { signal: controller.signal }).then((r) => r.text()).catch(() => undefined);
  }, 1000);
  return {
    stop: async () => {
      clearInterval(scrape);
      controller.abort();
      await reading;
    },
  };
}
