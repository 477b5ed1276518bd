import { expect } from 'chai';
import { parseWrkDuration, parseWrkOutput, wrkErrors } from '../../../bench/lib/wrk-output.js';

/** wrk 4.1.0 against a server answering 404 and closing each connection. */
const FAILING_RUN = `Running 1s test @ http://127.0.0.9:18089/nonexistent
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    25.36ms   49.59ms 236.90ms   89.57%
    Req/Sec   312.44    155.47   455.00     77.78%
  Latency Distribution
     50%    4.40ms
     75%   20.07ms
     90%   81.14ms
     99%  222.06ms
  292 requests in 1.08s, 148.46KB read
  Non-2xx or 3xx responses: 292
Requests/sec:    269.64
Transfer/sec:    137.09KB
`;

/** A saturated keep-alive run: microsecond latencies, k-suffixed thread rates, socket errors. */
const FAST_RUN = `Running 10s test @ http://127.78.0.1:8080/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.34us  301.12us   1.02s    93.12%
    Req/Sec    58.12k     2.31k   61.02k    80.00%
  Latency Distribution
     50%  761.00us
     75%    0.88ms
     90%    1.02ms
     99%    1.89ms
  578340 requests in 10.00s, 84.40MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
Requests/sec:  57810.12
Transfer/sec:      8.44MB
`;

describe('bench: wrk output', () => {
  it('reads durations in every unit wrk prints', () => {
    expect(parseWrkDuration('761.00us')).to.be.closeTo(0.761, 1e-9);
    expect(parseWrkDuration('4.40ms')).to.equal(4.4);
    expect(parseWrkDuration('1.08s')).to.equal(1080);
    expect(parseWrkDuration('1.00m')).to.equal(60_000);
    expect(() => parseWrkDuration('fast')).to.throw('"fast" is not a duration');
  });

  it('reads totals, rate, latency percentiles and non-2xx responses', () => {
    const result = parseWrkOutput(FAILING_RUN);
    expect(result.requests).to.equal(292);
    expect(result.durationS).to.be.closeTo(1.08, 1e-9);
    expect(result.requestsPerSec).to.equal(269.64);
    expect(result.latency).to.deep.equal({ avgMs: 25.36, maxMs: 236.9, p50Ms: 4.4, p75Ms: 20.07, p90Ms: 81.14, p99Ms: 222.06 });
    expect(result.non2xx).to.equal(292);
    expect(result.socketErrors).to.deep.equal({ connect: 0, read: 0, write: 0, timeout: 0 });
    expect(wrkErrors(result)).to.equal(292);
  });

  it('reads microsecond latencies, a max in seconds and socket errors', () => {
    const result = parseWrkOutput(FAST_RUN);
    expect(result.requests).to.equal(578_340);
    expect(result.requestsPerSec).to.equal(57_810.12);
    expect(result.latency.avgMs).to.be.closeTo(0.81234, 1e-9);
    expect(result.latency.maxMs).to.equal(1020);
    expect(result.latency.p50Ms).to.be.closeTo(0.761, 1e-9);
    expect(result.latency.p99Ms).to.equal(1.89);
    expect(result.non2xx).to.equal(0);
    expect(result.socketErrors).to.deep.equal({ connect: 0, read: 3, write: 1, timeout: 2 });
    expect(wrkErrors(result)).to.equal(6);
  });

  it('has no percentiles for a run without --latency', () => {
    const withoutDistribution = FAST_RUN.replace(/ {2}Latency Distribution[\s\S]*?(?= {2}578340)/, '');
    const result = parseWrkOutput(withoutDistribution);
    expect(result.latency.p50Ms).to.equal(null);
    expect(result.latency.p99Ms).to.equal(null);
    expect(result.requests).to.equal(578_340);
  });

  it('rejects output that is not a wrk report, quoting it', () => {
    expect(() => parseWrkOutput('unable to connect to 127.0.0.9:18089 Connection refused\n'))
      .to.throw(/wrk output not understood:\nunable to connect/);
  });
});
