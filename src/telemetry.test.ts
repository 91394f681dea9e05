import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Telemetry } from './telemetry.ts';

test('renders counters, gauges and histograms in the Prometheus text format', async () => {
  const t = new Telemetry();
  const c = t.counter('livestream_updates_received_total', 'Updates received', ['source']);
  c.inc({ source: 'http' });
  c.inc({ source: 'http' }, 2);
  c.inc({ source: 'file' });
  t.gauge(
    'livestream_sessions',
    'Sessions by state',
    () => [
      { labels: { state: 'active' }, value: 2 },
      { labels: { state: 'failed' }, value: 0 },
    ],
    ['state'],
  );
  t.gauge('livestream_websocket_clients', 'Clients', () => 3);
  const h = t.histogram('livestream_store_write_seconds', 'Write latency', [0.01, 0.1], ['op']);
  h.observe(0.005, { op: 'saveAgent' });
  h.observe(0.05, { op: 'saveAgent' });
  h.observe(5, { op: 'saveAgent' });
  assert.equal(
    await t.render(),
    [
      '# HELP livestream_updates_received_total Updates received',
      '# TYPE livestream_updates_received_total counter',
      'livestream_updates_received_total{source="http"} 3',
      'livestream_updates_received_total{source="file"} 1',
      '# HELP livestream_sessions Sessions by state',
      '# TYPE livestream_sessions gauge',
      'livestream_sessions{state="active"} 2',
      'livestream_sessions{state="failed"} 0',
      '# HELP livestream_websocket_clients Clients',
      '# TYPE livestream_websocket_clients gauge',
      'livestream_websocket_clients 3',
      '# HELP livestream_store_write_seconds Write latency',
      '# TYPE livestream_store_write_seconds histogram',
      'livestream_store_write_seconds_bucket{le="0.01",op="saveAgent"} 1',
      'livestream_store_write_seconds_bucket{le="0.1",op="saveAgent"} 2',
      'livestream_store_write_seconds_bucket{le="+Inf",op="saveAgent"} 3',
      'livestream_store_write_seconds_sum{op="saveAgent"} 5.055',
      'livestream_store_write_seconds_count{op="saveAgent"} 3',
      '',
    ].join('\n'),
  );
});

test('the same name returns the same instrument; kinds and names are checked', () => {
  const t = new Telemetry();
  const a = t.counter('x_total', 'X');
  assert.equal(t.counter('x_total', 'X again'), a);
  assert.throws(() => t.gauge('x_total', 'X'), /already a counter/);
  assert.throws(() => t.counter('bad name', 'X'), /invalid metric name/);
  assert.throws(() => a.inc(undefined, -1), /only increase/);
  assert.throws(() => a.inc({ 'bad-label': 'v' }), /invalid label name/);
});

test('label values are escaped; a failing collector does not break the scrape', async () => {
  const t = new Telemetry();
  t.counter('c_total', 'line one\nline two', ['path']).inc({ path: 'a"b\\c\nd' });
  t.gauge('broken', 'Broken', () => {
    throw new Error('nope');
  });
  const g = t.gauge('set_gauge', 'Set');
  g.set(5);
  g.dec();
  const text = await t.render();
  assert.match(text, /^# HELP c_total line one\\nline two$/m);
  assert.match(text, /^c_total\{path="a\\"b\\\\c\\nd"\} 1$/m);
  assert.match(text, /^# broken collect failed: Error: nope$/m);
  assert.match(text, /^set_gauge 4$/m);
});

test('undeclared labels are refused with the instrument named', () => {
  const t = new Telemetry();
  assert.throws(() => t.counter('y_total', 'Y', ['kind']).inc({ code: 'x' }), /'code' of y_total/);
  assert.throws(
    () => t.gauge('g', 'G', undefined, ['state']).set(1, { other: 'x' }),
    /'other' of g was not declared/,
  );
});
