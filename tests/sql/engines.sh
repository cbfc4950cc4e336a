# Sourced by .ci/run: install and start the SQL engines the equality test runs on, and export
# LEADCAL_SQL_ENGINES / LEADCAL_SQL_PYTHON for `cargo test`. DuckDB and Spark (pyspark, local
# mode, Java 17) come from PyPI into a venv outside the clone; PostgreSQL is Debian's server,
# started on a loopback port in a temporary folder and stopped when the script exits.

LEADCAL_CACHE="${LEADCAL_CACHE:-$HOME/.cache/leadcal}"
venv="$LEADCAL_CACHE/sql-venv"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -r "$here/requirements.txt" -r "$here/requirements-spark.txt"
export LEADCAL_SQL_PYTHON="$venv/bin/python"

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/postgres" ]; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
    pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
pgdir=$(mktemp -d /tmp/leadcal-pg.XXXXXX)
chmod 755 "$pgdir"
pguser=$(id -un)
run_pg() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
    # The server refuses to run as root: run it as Debian's postgres user.
    chown postgres "$pgdir"
    pguser=postgres
    run_pg() { su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; }
fi
run_pg "$pgbin/initdb" -D "$pgdir/data" -U "$pguser" -A trust >/dev/null
export PGHOST=127.0.0.1 PGPORT=55432 PGUSER="$pguser" PGDATABASE=postgres
run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories=$pgdir" start >/dev/null
trap 'run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m fast stop >/dev/null 2>&1; rm -rf "$pgdir"' EXIT
psql -X -q -c "SELECT 1" >/dev/null

export LEADCAL_SQL_ENGINES="duckdb,postgres,spark"
echo "SQL engines: $LEADCAL_SQL_ENGINES (python $LEADCAL_SQL_PYTHON, postgres $("$pgbin/postgres" --version | awk '{print $3}') on port $PGPORT)"
