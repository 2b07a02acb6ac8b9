// The README's tool table is the one the definitions generate.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOOLS } from '../../src/tools/registry.js';
import { withToolTable } from '../../src/tools/table.js';

describe('README', () => {
  it('lists every tool as the definitions say (run `npm run readme` after changing a tool)', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).toBe(withToolTable(readme, TOOLS));
  });
});
