import assert from 'node:assert/strict';
import { test } from 'node:test';
import { registerProcessMetrics, Telemetry } from './telemetry.ts';

test('process metrics: prom-client defaults plus the figures the soak reads', async () => {
  const t = new Telemetry();
  const stop = registerProcessMetrics(t);
  try {
    const text = await t.render();
    for (const [name, type] of [
      ['process_resident_memory_bytes', 'gauge'],
      ['process_open_fds', 'gauge'],
      ['nodejs_external_memory_bytes', 'gauge'],
      ['process_cpu_seconds_total', 'counter'],
      ['nodejs_heap_size_total_bytes', 'gauge'],
      ['nodejs_gc_duration_seconds', 'histogram'],
      ['nodejs_heap_used_bytes', 'gauge'],
      ['nodejs_eventloop_delay_seconds', 'gauge'],
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name);
    }
    assert.match(text, /^process_resident_memory_bytes [1-9]\d*$/m);
    assert.match(text, /^nodejs_eventloop_delay_seconds\{stat="p99"\} [\d.e-]+$/m);
  } finally {
    stop();
  }
});
