/** One round of /metrics reads from every agent, in parallel; an agent that fails is named, not fatal. */
import { agentText, type AgentAccess } from './agents.js';
import { scrapeOf, type Scrape } from './golden.js';

export interface ScrapeRound {
  readonly scrapes: readonly Scrape[];
  /** One line per agent that could not be read. */
  readonly failures: readonly string[];
}

export async function scrapeAll(access: AgentAccess, agents?: readonly string[]): Promise<ScrapeRound> {
  const names = agents ?? await access.agents();
  const results = await Promise.allSettled(names.map(async (agent) => scrapeOf(agent, Date.now(), await agentText(access, agent, 'metrics'))));
  const scrapes: Scrape[] = [];
  const failures: string[] = [];
  for (const result of results) {
    if (result.status === 'fulfilled') scrapes.push(result.value);
    else failures.push(result.reason instanceof Error ? result.reason.message : String(result.reason));
  }
  return { scrapes, failures };
}

/** When the first agent of a round was read (Infinity for an empty round). */
export function earliest(round: Pick<ScrapeRound, 'scrapes'>): number {
  let at = Infinity;
  for (const scrape of round.scrapes) at = Math.min(at, scrape.at);
  return at;
}

/** Seconds between two rounds (from the scrape times; the agents were read in parallel). */
export function windowSeconds(before: ScrapeRound, after: ScrapeRound): number {
  const start = earliest(before);
  const end = earliest(after);
  return Number.isFinite(end - start) ? Math.max(0, (end - start) / 1000) : 0;
}
