import { PGlite } from "@electric-sql/pglite";
const pg = await PGlite.create();
for (const s of ["autovacuum", "track_counts", "max_worker_processes", "autovacuum_max_workers", "server_version", "synchronous_commit", "fsync", "wal_level", "shared_buffers", "work_mem"]) {
  const r = await pg.query(`SELECT current_setting('${s}') AS v`);
  console.log(s, r.rows[0]);
}
const r = await pg.query(`SELECT now() AS a, clock_timestamp() AS b, now()::text AS t`);
console.log(r.rows);
await pg.exec("CREATE TABLE t (a int); INSERT INTO t SELECT generate_series(1,1000)");
await new Promise((resolve) => setTimeout(resolve, 2000));
console.log((await pg.query("SELECT relname, last_autoanalyze, last_autovacuum, n_dead_tup, n_live_tup FROM pg_stat_user_tables")).rows);
const times = [];
for (let i = 0; i < 5; i++) times.push((await pg.query(`SELECT clock_timestamp()::text AS t`)).rows[0]);
console.log(times);
