/** The demo's shares: over a sliding window of the latest answers, so a weight change shows at once. */
import { expect } from 'chai';
import { renderDashboard } from '../../../src/demo/dashboard.js';
import { RecentAnswers, type TargetStats } from '../../../src/demo/traffic.js';

function webStats(capacity: number): TargetStats {
  return {
    target: { service: 'shop/web', host: 'web.shop.plexus', vip: '127.77.0.1', port: 8080, trafficType: 'http', sourceIp: null, sourcePod: null, unknownCaller: false },
    sent: 0, answered: 0, failed: 0, byBackend: new Map(), byStatus: new Map(), recent: new RecentAnswers(capacity),
  };
}

function answer(stats: TargetStats, who: string, times: number): void {
  for (let i = 0; i < times; i++) {
    stats.sent++;
    stats.answered++;
    stats.byBackend.set(who, (stats.byBackend.get(who) ?? 0) + 1);
    stats.recent.add(who);
  }
}

describe('demo dashboard shares', () => {
  it('keeps only the latest answers in the window', () => {
    const recent = new RecentAnswers(4);
    for (const who of ['a', 'a', 'a', 'b', 'b', 'b']) recent.add(who);
    expect(recent.size).to.equal(4);
    expect([...recent.counts()]).to.have.deep.members([['a', 1], ['b', 3]]);
  });

  it('shows a weight change as soon as the window has turned over, whatever came before', () => {
    const stats = webStats(100);
    answer(stats, 'shop/web-v1', 900); // a long run at 100/0 ...
    answer(stats, 'shop/web-v1', 50); // ... then 50/50
    answer(stats, 'shop/web-v2', 50);
    const lines = renderDashboard([stats], null, 60);
    expect(lines).to.include('    share of the last 100 answers (total since the start):');
    expect(lines).to.include('    shop/web-v1: 50.0% (950)');
    expect(lines).to.include('    shop/web-v2: 50.0% (50)');
  });

  it('counts error statuses in the window too', () => {
    const stats = webStats(10);
    answer(stats, 'shop/web-v1', 5);
    stats.byStatus.set(403, 5);
    for (let i = 0; i < 5; i++) stats.recent.add('HTTP 403');
    expect(renderDashboard([stats], null, 1)).to.include('    HTTP 403: 50.0% (5)');
  });
});
