// Usage: node audit.mjs http://127.0.0.1:PORT/graphql
// Prints one JSON line: {"ok": n, "warn": n, "error": n, "warnings": [...], "errors": [...]}
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const results = await auditServer({ url });
const summary = { ok: 0, warn: 0, error: 0, warnings: [], errors: [] };
for (const result of results) {
  summary[result.status] += 1;
  if (result.status === 'warn') summary.warnings.push(`${result.id} ${result.name}: ${result.reason}`);
  if (result.status === 'error') summary.errors.push(`${result.id} ${result.name}: ${result.reason}`);
}
console.log(JSON.stringify(summary));
process.exit(summary.error === 0 ? 0 : 1);
