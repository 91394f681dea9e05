import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionKeys } from './keys.ts';

describe('SessionKeys', () => {
  it('gives a new session_id its own key', () => {
    const keys = new SessionKeys();
    assert.equal(keys.resolve('weather-app', '/a/weather-app'), 'weather-app');
    assert.equal(keys.keyFor('weather-app'), null);
  });

  it('keeps one folder one session and disambiguates a second folder', () => {
    const keys = new SessionKeys();
    keys.put({
      key: 'weather-app',
      sessionId: 'weather-app',
      projectDir: '/a/weather-app',
      changedAt: 1,
    });
    assert.equal(keys.resolve('weather-app', '/a/weather-app'), 'weather-app');
    const other = keys.resolve('weather-app', '/b/copy');
    assert.equal(other, 'weather-app@copy');
    keys.put({ key: other, sessionId: 'weather-app', projectDir: '/b/copy', changedAt: 2 });
    assert.equal(keys.resolve('weather-app', '/b/copy'), 'weather-app@copy');
    assert.equal(keys.resolve('weather-app', '/c/copy'), 'weather-app@copy-2');
    assert.equal(keys.keyFor('weather-app'), 'weather-app');
    assert.equal(keys.keyForProject('/b/copy'), 'weather-app@copy');
    assert.equal(keys.keyForProject('/nowhere'), null);
  });

  it('joins a push-only session to the folder that later names it', () => {
    const keys = new SessionKeys();
    keys.put({ key: 's', sessionId: 's', projectDir: null, changedAt: 1 });
    assert.equal(keys.resolve('s', '/p/s'), 's');
  });

  it('sends updates without a folder to the newest session of that id', () => {
    const keys = new SessionKeys();
    keys.put({ key: 's', sessionId: 's', projectDir: '/a/s', changedAt: 1 });
    keys.put({ key: 's@b', sessionId: 's', projectDir: '/b/s2', changedAt: 5 });
    assert.equal(keys.resolve('s', null), 's@b');
    assert.equal(keys.keyFor('s'), 's');
  });

  it('moves a key when its session_id changes', () => {
    const keys = new SessionKeys();
    keys.put({ key: 'k', sessionId: 'old', projectDir: '/a', changedAt: 1 });
    keys.put({ key: 'k', sessionId: 'new', projectDir: '/a', changedAt: 2 });
    assert.equal(keys.keyFor('old'), null);
    assert.equal(keys.keyFor('new'), 'k');
  });
});
