// The anchor for aidi-worker's CPU path: a plain DuckDB query run the same way (one process,
// the same thread count), through DuckDB's own Node.js client (npm @duckdb/node-api).
//   node duckdb_anchor.mjs THREADS "SQL; SQL; ..."
import { DuckDBInstance } from '@duckdb/node-api';

const [threads, sql] = process.argv.slice(2);
const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const connection = await instance.connect();
for (const statement of sql.split(';').map((s) => s.trim()).filter((s) => s.length > 0)) {
  await connection.run(statement);
}
