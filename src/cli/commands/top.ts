/**
 * `plexus top [ns/]svc|ns`: the busiest paths right now, from every agent's tap
 * (docs/cli.md#plexus-top). Redrawn in place each second on a terminal; the final table is
 * printed when it stops (--duration, Ctrl-C).
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { LiveView } from '../../demo/dashboard.js';
import { TapStreams } from '../observe/tap-stream.js';
import { describeTarget, tapQuery } from '../observe/target.js';
import { TopTable } from '../observe/top-table.js';
import { count } from '../observe/options.js';
import { openTapSession, tapFilterOptions, untilStopped, type TapFilterArgs } from './tap.js';

interface TopArgs extends TapFilterArgs {
  readonly rows: number;
}

const REDRAW_MS = 1000;

function builder(yargs: Argv): Argv<TopArgs> {
  return tapFilterOptions(yargs)
    .option('rows', { type: 'number', default: 20, describe: 'Rows shown (the busiest)', coerce: count('rows', 1) })
    .example('$0 top shop --admin http://127.0.0.1:9901', 'The busiest paths of namespace shop on the local agent')
    .example('$0 top --duration 10', 'Ten seconds of the whole cluster, then the table') as unknown as Argv<TopArgs>;
}

async function handler(args: ArgumentsCamelCase<TopArgs>): Promise<void> {
  const session = await openTapSession(args);
  const { stopped } = untilStopped(args.duration);
  const counts = new TopTable();
  const problems: string[] = [];
  const started = Date.now();
  const heading = (): string => `top of ${describeTarget(session.target)}: ${Math.round((Date.now() - started) / 1000)} s, ${session.agents.length} agent${session.agents.length === 1 ? '' : 's'}${args.duration > 0 ? '' : ' (Ctrl-C to stop)'}`;
  const streams = new TapStreams(session.access, session.agents, tapQuery(session.target, { method: args.method, from: args.from, rate: args.rate }), {
    onEvent: (event) => {
      if (session.path === null || session.path.test(event.path)) counts.add(event);
    },
    onProblem: (message) => problems.push(message),
  });
  const view = new LiveView(process.stdout, 10);
  const draw = (): string[] => [heading(), ...problems.map((p) => `warning: ${p}`), '', ...counts.render(args.rows)];
  const timer = setInterval(() => view.draw(draw()), REDRAW_MS);
  await Promise.race([stopped, streams.done]);
  clearInterval(timer);
  streams.stop();
  await streams.done;
  view.final(draw());
}

export const topCommand: CommandModule<object, TopArgs> = {
  command: 'top [target]',
  describe: 'The busiest paths right now, from every agent\'s live requests',
  builder,
  handler,
};
