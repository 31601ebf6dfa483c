import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { offlineOpenApiDocument } from '../http/openapi-document';
import { targetKinds } from '../target-kinds';

/**
 * `npm run openapi [-- <file>]`: writes the API document (docs/openapi.json by default) from the
 * controllers and zod schemas, without a database, a port or a cloud. `npm run lint:openapi`
 * writes it and lints it; a unit spec fails when the committed copy is stale.
 */
async function main(): Promise<void> {
  const target = resolve(process.argv[2] ?? 'docs/openapi.json');
  const document = await offlineOpenApiDocument(targetKinds);
  writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(`wrote ${target}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
