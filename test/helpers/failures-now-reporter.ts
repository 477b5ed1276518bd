/**
 * The reporter of every mocha run here (.mocharc.json): mocha's `spec`, plus each failure's error
 * printed as soon as it happens — a failed test and a failed hook (`before all`, `after each` ...)
 * alike — not only in the summary at the end. A run cut short (Ctrl-C, the cluster lock's time
 * running out, a CI timeout) still says why what failed failed.
 */
import Mocha from 'mocha';

const INDENT = '        ';

export default class FailuresNowReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.on(Mocha.Runner.constants.EVENT_TEST_FAIL, (runnable: Mocha.Runnable, err: unknown) => {
      const what = runnable instanceof Mocha.Hook ? 'hook failed' : 'failed';
      const detail = err instanceof Error ? err.stack ?? err.message : String(err);
      console.log(`${INDENT}✘ ${what}: ${runnable.fullTitle()}\n${INDENT}  ${detail.split('\n').join(`\n${INDENT}  `)}`);
    });
  }
}
