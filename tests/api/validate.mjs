// node validate.mjs FILE...: each file validates as an OpenAPI 3.1 document
// (@apidevtools/swagger-parser). One ok/FAIL line per file; exit 1 on any failure.
import fs from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';

let failed = 0;
for (const f of process.argv.slice(2)) {
  try {
    const doc = JSON.parse(fs.readFileSync(f, 'utf8'));
    if (doc.openapi !== '3.1.0') throw new Error(`openapi is ${doc.openapi}, not 3.1.0`);
    await SwaggerParser.validate(doc);
    console.log(`  ok   ${f} validates as OpenAPI 3.1 (${Object.keys(doc.paths).length} paths)`);
  } catch (e) {
    failed++;
    console.log(`  FAIL ${f} validates as OpenAPI 3.1: ${e.message}`);
  }
}
process.exit(failed ? 1 : 0);
