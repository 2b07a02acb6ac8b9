// Regenerates the tool table in README.md from the tool definitions (run after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { TOOLS } from '../dist/tools/registry.js';
import { withToolTable } from '../dist/tools/table.js';

const readme = readFileSync('README.md', 'utf8');
writeFileSync('README.md', withToolTable(readme, TOOLS));
