import { expect } from 'chai';
import { newRequestId, requestIdOf, traceIdOf } from '../../../src/node-agent/telemetry/trace-context.js';

function headers(fields: Record<string, string>): { header(name: string): string | undefined } {
  return { header: (name) => fields[name] };
}

describe('telemetry: trace context', () => {
  it('reads the trace id of a W3C traceparent, a B3 single header and x-b3-traceid', () => {
    expect(traceIdOf(headers({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }))).to.equal('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf(headers({ b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' }))).to.equal('80f198ee56343ba864fe8b2a57d3eff7');
    expect(traceIdOf(headers({ 'x-b3-traceid': '463ac35c9f6413ad' }))).to.equal('463ac35c9f6413ad');
    // traceparent wins over B3 when both are sent.
    expect(traceIdOf(headers({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'x-b3-traceid': '463ac35c9f6413ad' })))
      .to.equal('0af7651916cd43dd8448eb211c80319c');
  });

  it('logs no trace id for missing, malformed or all-zero ids', () => {
    expect(traceIdOf(headers({}))).to.equal('');
    expect(traceIdOf(headers({ traceparent: 'garbage' }))).to.equal('');
    expect(traceIdOf(headers({ traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' }))).to.equal('');
    expect(traceIdOf(headers({ traceparent: '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01' }))).to.equal('');
    expect(traceIdOf(headers({ 'x-b3-traceid': '{"json":"injection"}' }))).to.equal('');
  });

  it('keeps a client request id (bounded for the log) and makes unique ones otherwise', () => {
    expect(requestIdOf(headers({ 'x-request-id': 'abc-1' }))).to.equal('abc-1');
    expect(requestIdOf(headers({}))).to.equal(null);
    expect(requestIdOf(headers({ 'x-request-id': 'x'.repeat(500) }))).to.have.length(128);
    expect(newRequestId()).to.match(/^[0-9a-f-]{36}$/).and.not.equal(newRequestId());
  });
});
