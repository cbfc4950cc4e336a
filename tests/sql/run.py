"""Run a query written by `leadcal sql` on a real engine over a leadcal dataset (Parquet files).

    python run.py --engine duckdb --data DIR --sql FILE --out RESULT.parquet

Engines: duckdb (the Python package), postgres (a running server reached with `psql`; the
connection comes from the usual PG* environment variables), spark (pyspark in local mode).
The query's result is written to RESULT.parquet for the Rust test to compare with leadcal's own
per-lead table (`leadcal score --snapshot-days N`). Each engine reads the dataset's leads and
events as tables named `leads` and `events`; the session time zone is UTC.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def run_duckdb(data, sql, out):
    import duckdb

    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    for t in ("leads", "events"):
        c.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{data}/{t}.parquet')")
    t0 = time.time()
    c.execute(f"COPY ({sql.rstrip().rstrip(';')}\n) TO '{out}' (FORMAT PARQUET)")
    return time.time() - t0


PG_TYPES = {
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE PRECISION",
    pa.bool_(): "BOOLEAN",
    pa.string(): "TEXT",
    pa.large_string(): "TEXT",
}


def pg_type(t):
    if pa.types.is_timestamp(t):
        return "TIMESTAMP"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "TEXT"
    return PG_TYPES[t]


def psql(*args, input=None):
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *args],
                       input=input, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"psql failed: {r.stderr}")
    return r.stdout


def run_postgres(data, sql, out):
    with tempfile.TemporaryDirectory() as tmp:
        for t in ("leads", "events"):
            table = pq.read_table(f"{data}/{t}.parquet")
            # Plain strings: the CSV writer does not take string views.
            table = table.cast(pa.schema([
                pa.field(f.name, pa.string() if pa.types.is_string_view(f.type) else f.type)
                for f in table.schema]))
            cols = ", ".join(f'"{f.name}" {pg_type(f.type)}' for f in table.schema)
            csv = os.path.join(tmp, f"{t}.csv")
            pacsv.write_csv(table, csv, pacsv.WriteOptions(include_header=True))
            psql("-c", f"DROP TABLE IF EXISTS {t}; CREATE TABLE {t} ({cols});")
            psql("-c", f"\\copy {t} FROM '{csv}' WITH (FORMAT csv, HEADER true)")
        psql("-c", "ANALYZE leads; ANALYZE events;")
        result = os.path.join(tmp, "result.csv")
        t0 = time.time()
        psql("-c", "SET TIME ZONE 'UTC'",
             "-c", f"\\copy ({' '.join(l for l in sql.splitlines() if not l.startswith('--'))}) TO '{result}' WITH (FORMAT csv, HEADER true)")
        took = time.time() - t0
        # Read back with the engine's types: text for band and stage, timestamps as such.
        table = pacsv.read_csv(result, convert_options=pacsv.ConvertOptions(
            column_types={"band": pa.string(), "stage": pa.string(),
                          "created_at": pa.timestamp("us"), "snapshot_at": pa.timestamp("us")},
            strings_can_be_null=False))
        pq.write_table(table, out)
    return took


def run_spark(data, sql, out):
    import glob
    import shutil

    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("leadcal-sql-test")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.driver.memory", "8g")
             .config("spark.sql.shuffle.partitions", "8")
             .config("spark.ui.enabled", "false")
             .getOrCreate())
    for t in ("leads", "events"):
        spark.read.parquet(f"{data}/{t}.parquet").createOrReplaceTempView(t)
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        # Written by Spark itself (no collect to the driver), as one file.
        spark.sql(sql.rstrip().rstrip(";")).coalesce(1).write.mode("overwrite").parquet(f"{tmp}/r")
        took = time.time() - t0
        part = glob.glob(f"{tmp}/r/part-*.parquet")[0]
        shutil.move(part, out)
    spark.stop()
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True, choices=["duckdb", "postgres", "spark"])
    ap.add_argument("--data", required=True)
    ap.add_argument("--sql", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    sql = open(a.sql).read()
    took = {"duckdb": run_duckdb, "postgres": run_postgres, "spark": run_spark}[a.engine](
        a.data, sql, a.out)
    print(f"{a.engine}: query ran in {took:.2f} s")


if __name__ == "__main__":
    main()
