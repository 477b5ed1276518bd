/**
 * What the dashboard shows, kept current: every agent's /metrics read every 2 s, rates over the
 * last 10 s (the oldest read in that span against the newest), as `plexus stat` computes them.
 */
import { agentText, type AgentAccess } from '../observe/agents.js';
import type { GoldenRow } from '../observe/golden.js';
import { earliest, scrapeAll, type ScrapeRound } from '../observe/scrape.js';
import { statReport, type StatReport } from '../commands/stat.js';
import { routesOf, type PortRoutes } from './routes-view.js';

export const POLL_MS = 2000;
const WINDOW_MS = 10_000;
/** The list of agents is read again this often (agents come and go with nodes). */
const AGENTS_EVERY_MS = 30_000;

export interface Edge extends GoldenRow {
  readonly from: string;
  readonly to: string;
}

export interface GraphView {
  readonly windowSeconds: number;
  readonly agents: number;
  readonly unreachable: readonly string[];
  readonly services: readonly GoldenRow[];
  readonly edges: readonly Edge[];
}

export interface ServiceView {
  readonly stat: StatReport | null;
  /** Null with the reason when no agent's /config could be read. */
  readonly routes: readonly PortRoutes[] | null;
  readonly routesProblem: string | null;
}

export class MeshView {
  readonly #access: AgentAccess;
  readonly #rounds: ScrapeRound[] = [];
  #agents: string[] = [];
  #agentsAt = 0;
  /** Why the latest read fell short (agents not listed or not read). */
  #failures: readonly string[] = [];
  #timer: NodeJS.Timeout | null = null;
  #polling: Promise<void> = Promise.resolve();

  constructor(access: AgentAccess) {
    this.#access = access;
  }

  get agents(): readonly string[] {
    return this.#agents;
  }

  /** Reads once now, then every POLL_MS until `stop`. */
  async start(): Promise<void> {
    await this.#poll();
    this.#timer = setInterval(() => {
      this.#polling = this.#polling.then(() => this.#poll()).catch(() => undefined);
    }, POLL_MS);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#polling;
  }

  graph(): GraphView {
    const report = this.#report(undefined);
    if (report === null) return { windowSeconds: 0, agents: this.#agents.length, unreachable: this.#failures, services: [], edges: [] };
    const edges = report.sources.map((row) => {
      const [from, to] = row.key.split(' → ') as [string, string];
      return { ...row, from, to };
    });
    return { windowSeconds: report.windowSeconds, agents: report.agents, unreachable: this.#failures, services: report.services, edges };
  }

  async service(name: string): Promise<ServiceView> {
    const stat = this.#report(name);
    let routes: PortRoutes[] | null = null;
    let routesProblem: string | null = null;
    const agent = this.#agents[0];
    if (agent === undefined) routesProblem = 'no agent';
    else {
      try {
        routes = routesOf(JSON.parse(await agentText(this.#access, agent, 'config')) as unknown, name);
        if (routes === null) routesProblem = `${name} is not in the applied config of agent ${agent}`;
      } catch (error) {
        routesProblem = error instanceof Error ? error.message : String(error);
      }
    }
    return { stat, routes, routesProblem };
  }

  #report(target: string | undefined): StatReport | null {
    const newest = this.#rounds.at(-1);
    const oldest = this.#rounds[0];
    if (newest === undefined || oldest === undefined || newest === oldest) return null;
    return statReport(oldest, newest, target);
  }

  async #poll(): Promise<void> {
    const now = Date.now();
    if (now - this.#agentsAt >= AGENTS_EVERY_MS || this.#agents.length === 0) {
      try {
        this.#agents = await this.#access.agents();
        this.#agentsAt = now;
      } catch (error) {
        this.#failures = [`cannot list the agents: ${error instanceof Error ? error.message : String(error)}`];
        return;
      }
    }
    const round = await scrapeAll(this.#access, this.#agents);
    this.#failures = round.failures;
    if (round.scrapes.length === 0) return;
    this.#rounds.push(round);
    this.#trim(now);
  }

  /** Keeps the newest read and those of the last WINDOW_MS (at least two once there are two). */
  #trim(now: number): void {
    while (this.#rounds.length > 2) {
      const second = this.#rounds[1]!;
      const secondAt = earliest(second);
      if (now - secondAt < WINDOW_MS) break;
      this.#rounds.shift();
    }
  }
}
