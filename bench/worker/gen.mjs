// Generates the benchmark's data with DuckDB: ROWS rows of
//   id BIGINT, k BIGINT (100 groups), a DOUBLE in [0,1), b DOUBLE in [0,1000), c BIGINT (10% null)
// as DIR/data.parquet and DIR/data.csv, and a 1M x 30 feature classification set for train
// (DIR/train.csv, DIR/test.csv: features f0..f29, label y).
//   node gen.mjs DIR ROWS
import { DuckDBInstance } from '@duckdb/node-api';

const [dir, rows] = process.argv.slice(2);
const instance = await DuckDBInstance.create(':memory:');
const c = await instance.connect();
await c.run('SELECT setseed(0.42)');
await c.run(`CREATE TABLE t AS SELECT range AS id, range % 100 AS k, random() AS a,
  random() * 1000 AS b, CASE WHEN random() < 0.1 THEN NULL ELSE CAST(random() * 1000 AS BIGINT) END AS c
  FROM range(${rows})`);
await c.run(`COPY t TO '${dir}/data.parquet' (FORMAT parquet)`);
await c.run(`COPY t TO '${dir}/data.csv' (FORMAT csv, HEADER true)`);
// A linearly separable-ish problem: y = 1 when w·x + noise > 0.
const features = Array.from({ length: 30 }, (_, j) => `f${j}`);
const cols = features.map((f) => `random() * 2 - 1 AS ${f}`).join(', ');
const score = features.map((f, j) => `${((j % 7) - 3) / 3} * ${f}`).join(' + ');
await c.run(`CREATE TABLE m AS SELECT *, CAST((${score}) + (random() - 0.5) * 0.8 > 0 AS BIGINT) AS y
  FROM (SELECT ${cols} FROM range(1250000))`);
await c.run(`COPY (SELECT * FROM m LIMIT 1000000) TO '${dir}/train.csv' (FORMAT csv, HEADER true)`);
await c.run(`COPY (SELECT * FROM m OFFSET 1000000) TO '${dir}/test.csv' (FORMAT csv, HEADER true)`);
