import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inlineSegments } from './Markdown.tsx';

test('titles split into styled segments, markers dropped', () => {
  assert.deepEqual(inlineSegments('**Framework** Setup with `cli` and *care*'), [
    { text: 'Framework', style: 'bold' },
    { text: ' Setup with ', style: 'plain' },
    { text: 'cli', style: 'code' },
    { text: ' and ', style: 'plain' },
    { text: 'care', style: 'italic' },
  ]);
  assert.deepEqual(inlineSegments('plain'), [{ text: 'plain', style: 'plain' }]);
});
