# A throwaway PostgreSQL server for the test suite, as a user's CI would start one: Debian's packages (installed
# when missing and this runs as root), a new cluster in a temporary directory owned by an unprivileged user
# (postgres refuses to run as root), listening on 127.0.0.1 on a free port, stopped and removed on EXIT.
# Sourced by .ci/run; `start_postgres` sets PG_BIN, PG_DIR and POSTGRES_URL, or returns 1 saying why not.

pg_bin_dir() {
  # The newest installed server (Debian puts each major version in /usr/lib/postgresql/N/bin).
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n | tail -n 1 || true)
  if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then echo "$dir"; return 0; fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

install_postgres() {
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL is not installed and cannot be installed here (needs root and apt-get)." >&2
    return 1
  fi
  echo "Installing PostgreSQL from Debian's packages…"
  # Debian's package starts a cluster of its own where it can; ours is separate (own directory and port).
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }; then
    echo "apt-get install postgresql failed." >&2
    return 1
  fi
}

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

stop_postgres() {
  if [[ -n "${PG_DIR:-}" && -d "$PG_DIR" ]]; then
    if [[ -f "$PG_DIR/data/postmaster.pid" ]]; then
      as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_DIR"
  fi
}

as_pg_user() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

start_postgres() {
  PG_BIN=$(pg_bin_dir) || { install_postgres && PG_BIN=$(pg_bin_dir); } || return 1
  PG_USER=$(id -un)
  if [[ $(id -u) -eq 0 ]]; then
    # Debian's package creates the `postgres` system user; create one where PostgreSQL came from elsewhere.
    PG_USER=postgres
    if ! id -u "$PG_USER" >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER" || { echo "Could not create user $PG_USER." >&2; return 1; }
    fi
  fi
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/spectron-pg.XXXXXX")
  trap stop_postgres EXIT
  chmod 755 "$PG_DIR"
  [[ $(id -u) -eq 0 ]] && chown "$PG_USER" "$PG_DIR"
  local port
  port=$(free_port)
  # Trust on loopback only: a throwaway server for one test run, reachable from this machine alone.
  if ! as_pg_user "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1; then
    echo "initdb failed:" >&2; cat "$PG_DIR/initdb.log" >&2; return 1
  fi
  if ! as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$PG_DIR -c fsync=off -c max_connections=200" start >/dev/null; then
    echo "PostgreSQL did not start:" >&2; cat "$PG_DIR/server.log" >&2; return 1
  fi
  POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
}
