// Ways to keep one row per key with DuckDB, timed in one process on the benchmark's CSV: why
// clean's dedupe over CSV is bound by a one-thread scan (docs/benchmarks.md, aidi-worker).
//   node dedupe_ways.mjs DATA.csv THREADS      (run from build/bench-worker, which has the client)
import { DuckDBInstance } from '@duckdb/node-api';

const [csv, threads = '2'] = process.argv.slice(2);
const instance = await DuckDBInstance.create(':memory:', { threads });
const db = await instance.connect();
const S = `read_csv('${csv}')`;
const firsts = (r) => `arg_min_null(id, ${r}) AS id, k, arg_min_null(a, ${r}) AS a, ` +
  `arg_min_null(b, ${r}) AS b, c`;
const ways = [
  ['warm-up: count(*)', [`SELECT count(*) FROM ${S}`]],
  ['a parallel scan of all columns', [`SELECT sum(id), sum(k), sum(a), sum(b), sum(c) FROM ${S}`]],
  ['the same scan numbered by row_number() OVER ()',
    [`SELECT max(r), sum(id), sum(k), sum(a), sum(b), sum(c) FROM (SELECT *, row_number() OVER () AS r FROM ${S})`]],
  ['arg_min_null per column over row_number() (the worker)',
    [`SELECT ${firsts('r')} FROM (SELECT *, row_number() OVER () AS r FROM ${S}) GROUP BY k, c ORDER BY min(r)`]],
  ['one arg_min_null over a struct',
    [`SELECT id, k, a, b, c FROM (SELECT k, c, unnest(arg_min_null({'id': id, 'a': a, 'b': b}, r)), min(r) AS m ` +
     `FROM (SELECT *, row_number() OVER () AS r FROM ${S}) GROUP BY k, c) ORDER BY m`]],
  ['CREATE TEMP TABLE, then arg_min_null over rowid',
    [`CREATE TEMP TABLE t AS SELECT * FROM ${S}`,
     `SELECT ${firsts('rowid')} FROM t GROUP BY k, c ORDER BY min(rowid)`]],
  ['arg_min_null over a parallel row number (id here)',
    [`SELECT ${firsts('id')} FROM ${S} GROUP BY k, c ORDER BY min(id)`]],
  ['DISTINCT ON (k, c) * (keeps any row)', [`SELECT DISTINCT ON (k, c) * FROM ${S}`]],
];
for (const [name, statements] of ways) {
  const started = Date.now();
  for (const [i, sql] of statements.entries()) {
    const last = i === statements.length - 1;
    await db.run(last ? `COPY (${sql}) TO '/dev/null' (FORMAT csv)` : sql);
  }
  console.log(`${((Date.now() - started) / 1000).toFixed(2)} s  ${name}`);
}
