import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOST_NAME, hostOfPath, safeHostName } from './forward.ts';

describe('machine names', () => {
  it('makes any hostname a valid HOST_NAME', () => {
    for (const raw of ['build-01.local', 'Mac Book’s Pro', '..hidden', '', 'x'.repeat(80)]) {
      const name = safeHostName(raw);
      assert.match(name, HOST_NAME, raw);
    }
    assert.equal(safeHostName('build-01.local'), 'build-01.local');
    assert.equal(safeHostName('Mac Book'), 'Mac-Book');
    assert.equal(safeHostName(''), 'machine');
  });

  it('reads the machine from a forwarded path, not from a local one', () => {
    assert.equal(hostOfPath('/@ci-1/home/me/weather-app'), 'ci-1');
    assert.equal(hostOfPath('/home/me/weather-app'), null);
    assert.equal(hostOfPath('/@bad host/x'), null);
    assert.equal(hostOfPath(null), null);
  });
});
