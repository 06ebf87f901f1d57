// Regenerates docs/settings.schema.json from the zod schema (run after `npm run build`).
// A test fails when the published file and the schema differ.
import { writeFileSync } from 'node:fs';
import { settingsJsonSchema } from '../dist/src/source/settings-schema.js';

writeFileSync(new URL('../docs/settings.schema.json', import.meta.url), `${JSON.stringify(settingsJsonSchema(), null, 2)}\n`);
