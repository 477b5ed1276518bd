/**
 * `plexus tap [ns/]svc`: a live stream of the requests to a Service (or namespace) from every
 * agent (docs/cli.md#plexus-tap). Shows method, path, status, latency, caller and endpoint;
 * never header values or bodies. `--path` is a regular expression applied here, on the reading
 * side: the agent never runs a user's expression.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { TAP_DEFAULT_RATE, TAP_MAX_RATE } from '../../node-agent/telemetry/tap.js';
import type { AgentAccess } from '../observe/agents.js';
import { latency } from '../observe/format.js';
import { agentAccess, count, observeOptions, seconds, type ObserveArgs } from '../observe/options.js';
import { scrapeAll } from '../observe/scrape.js';
import { TapStreams, type TapEvent } from '../observe/tap-stream.js';
import { describeTarget, parseTarget, tapQuery, type Target } from '../observe/target.js';
import { CliError, EXIT } from '../errors.js';

export interface TapFilterArgs extends ObserveArgs {
  readonly target: string | undefined;
  readonly path: string | undefined;
  readonly method: string | undefined;
  readonly from: string | undefined;
  readonly rate: number;
  readonly duration: number;
}

interface TapArgs extends TapFilterArgs {
  readonly max: number;
  readonly output: 'text' | 'json';
}

/** The filter options tap and top share. */
export function tapFilterOptions<T>(yargs: Argv<T>): Argv<T & TapFilterArgs> {
  return observeOptions(yargs)
    .positional('target', { type: 'string', describe: 'A Service (namespace/name), a namespace, or nothing for every Service' })
    .option('path', { type: 'string', describe: 'Only requests whose path matches this regular expression (applied by the CLI)' })
    .option('method', { type: 'string', describe: 'Only requests with this method (GET, POST, ...)' })
    .option('from', { type: 'string', describe: 'Only requests from this caller: namespace/serviceAccount, or unknown' })
    .option('rate', {
      type: 'number', default: TAP_DEFAULT_RATE,
      describe: `Events per second each agent sends at most (1-${TAP_MAX_RATE}); above it, a sample`,
      coerce: (value: number) => {
        if (!Number.isInteger(value) || value < 1 || value > TAP_MAX_RATE) throw new Error(`--rate: "${value}" is not a whole number from 1 to ${TAP_MAX_RATE}`);
        return value;
      },
    })
    .option('duration', { type: 'number', default: 0, describe: 'Stop after this many seconds (0 = until Ctrl-C)', coerce: seconds('duration', true) }) as unknown as Argv<T & TapFilterArgs>;
}

function builder(yargs: Argv): Argv<TapArgs> {
  return tapFilterOptions(yargs)
    .option('max', { type: 'number', default: 0, describe: 'Stop after this many requests (0 = no limit)', coerce: count('max', 0) })
    .option('output', { alias: 'o', choices: ['text', 'json'] as const, default: 'text' as const, describe: 'One line of text, or the JSON event, per request' })
    .example('$0 tap shop/web --admin http://127.0.0.1:9901', 'Requests to the demo\'s web Service')
    .example('$0 tap shop/web --from unknown --method GET --path "^/api/"', 'Only GETs under /api/ from callers that are not pods') as unknown as Argv<TapArgs>;
}

export interface TapSession {
  readonly access: AgentAccess;
  readonly agents: readonly string[];
  readonly target: Target;
  readonly path: RegExp | null;
}

/** Resolves the agents, the target and the path filter; errors are located CliErrors. */
export async function openTapSession(args: TapFilterArgs): Promise<TapSession> {
  let path: RegExp | null = null;
  if (args.path !== undefined) {
    try {
      path = new RegExp(args.path);
    } catch (error) {
      throw new CliError(`--path: ${error instanceof Error ? error.message : String(error)}`, EXIT.FAILURE);
    }
  }
  const access = agentAccess(args);
  const agents = await access.agents().catch((error: unknown) => {
    throw new CliError(`cannot list the agents: ${error instanceof Error ? error.message : String(error)}`, EXIT.FAILURE);
  });
  if (agents.length === 0) throw new CliError(`no ready agent in ${access.description}`, EXIT.FAILURE);
  // A single word is a namespace when the agents' metrics know one by that name.
  const known = args.target !== undefined && !args.target.includes('/')
    ? new Set((await scrapeAll(access, agents)).scrapes.flatMap((s) => s.samples.map((sample) => sample.labels.destination_namespace ?? '')))
    : new Set<string>();
  try {
    return { access, agents, target: parseTarget(args.target, known), path };
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), EXIT.FAILURE);
  }
}

/** One line per request, in the manner of `linkerd viz tap`. */
export function tapLine(event: TapEvent, at: Date): string {
  const source = event.source === 'unknown' ? `unknown (${event.sourceIp})` : event.source;
  const served = event.endpoint ? ` ${event.backend ?? ''}@${event.endpoint}` : '';
  const why = event.reason ? ` (${event.reason})` : '';
  return `${at.toISOString()} ${source} → ${event.destination}${served} ${event.method} ${event.path} ${event.status}${why} ${latency(event.latencyMs / 1000)}${event.failed ? ' FAILED' : ''}`;
}

/** Resolves after `duration` seconds (never when 0), on SIGINT/SIGTERM, or when `stop` is called. */
export function untilStopped(duration: number): { readonly stopped: Promise<void>; stop(): void } {
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    const timer = duration > 0 ? setTimeout(() => stop(), duration * 1000) : null;
    stop = () => {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return { stopped, stop: () => stop() };
}

async function handler(args: ArgumentsCamelCase<TapArgs>): Promise<void> {
  const session = await openTapSession(args);
  const { stopped, stop } = untilStopped(args.duration);
  let shown = 0;
  const problems: string[] = [];
  console.error(`tapping ${describeTarget(session.target)} on ${session.agents.length} agent${session.agents.length === 1 ? '' : 's'} (Ctrl-C to stop)`);
  const streams = new TapStreams(session.access, session.agents, tapQuery(session.target, { method: args.method, from: args.from, rate: args.rate }), {
    onEvent: (event) => {
      if (session.path !== null && !session.path.test(event.path)) return;
      if (args.max > 0 && shown >= args.max) return;
      shown++;
      console.log(args.output === 'json' ? JSON.stringify(event) : tapLine(event, new Date()));
      if (args.max > 0 && shown >= args.max) stop();
    },
    onSkipped: (sampled, dropped, agent) => console.error(`agent ${agent}: ${sampled} requests left out by sampling, ${dropped} dropped (reader too slow)`),
    onProblem: (message) => {
      problems.push(message);
      console.error(`warning: ${message}`);
    },
  });
  await Promise.race([stopped, streams.done]);
  streams.stop();
  await streams.done;
  stop();
  if (problems.length === session.agents.length && shown === 0) throw new CliError(`no agent could be tapped`, EXIT.FAILURE);
}

export const tapCommand: CommandModule<object, TapArgs> = {
  command: 'tap [target]',
  describe: 'Watch live requests to a Service or namespace on every agent (never header values or bodies)',
  builder,
  handler,
};
