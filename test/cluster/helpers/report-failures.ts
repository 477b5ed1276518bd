/**
 * A mocha root hook for the cluster runs: a failed test's error is printed as soon as the test
 * ends, not only in the summary, so a run cut short (the team's cluster lock is held ~10 minutes
 * at a time) still says why its tests failed.
 */
export const mochaHooks = {
  afterEach(this: Mocha.Context): void {
    const test = this.currentTest;
    if (test?.state !== 'failed') return;
    const err = (test as Mocha.Test & { err?: Error }).err;
    console.log(`      ✘ ${test.fullTitle()}\n        ${String(err?.stack ?? err).split('\n').join('\n        ')}`);
  },
};
