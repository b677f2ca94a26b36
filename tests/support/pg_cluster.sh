#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests: initdb under DIR, password login
# (scram-sha-256) on a free loopback port, its socket in DIR too. Nothing outside DIR is touched.
#
#   eval "$(tests/support/pg_cluster.sh start DIR)"   # prints the exports below
#   cargo test
#   tests/support/pg_cluster.sh stop DIR              # stops it and removes DIR
#
# Exports: SEEDANCE_TEST_POSTGRES (postgres://seedance@127.0.0.1:PORT/postgres, no password),
# PGPASSWORD, PGPASSFILE (a pgpass file with the same password) and SEEDANCE_TEST_POSTGRES_CA
# (the CA of the server's TLS certificate, which names `localhost` only; needs openssl). As root (CI), the server
# runs as the `postgres` user the distribution's package creates: initdb refuses root.
set -euo pipefail

usage() { echo "usage: $0 start DIR | stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

bindir() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return
  fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] || {
    echo "initdb not found: install the distribution's postgresql package" >&2
    exit 1
  }
  echo "$d"
}

# Run a server program as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
  start)
    bin=$(bindir)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    chmod 700 "$dir"
    mkdir -p "$dir/server"
    password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    printf '%s\n' "$password" > "$dir/server/pwfile"
    chmod 600 "$dir/server/pwfile"
    if [ "$(id -u)" -eq 0 ]; then
      id postgres >/dev/null 2>&1 || {
        echo "no postgres user: install the distribution's postgresql package" >&2
        exit 1
      }
      chown -R postgres "$dir/server"
      # The server's user must reach DIR/server; the client files in DIR stay root's.
      chmod 711 "$dir"
      runuser -u postgres -- test -w "$dir/server" || {
        echo "the postgres user cannot reach $dir (a parent folder is closed to it): use a folder made by mktemp -d" >&2
        exit 1
      }
    fi
    as_owner "$bin/initdb" -D "$dir/server/data" -U seedance --pwfile="$dir/server/pwfile" \
      --auth=scram-sha-256 --no-locale -E UTF8 >"$dir/server/initdb.log" 2>&1 || {
        cat "$dir/server/initdb.log" >&2
        exit 1
      }
    rm -f "$dir/server/pwfile"
    # TLS with a certificate for `localhost` only, signed by a CA of its own (DIR/ca.pem): a
    # client connecting to 127.0.0.1 gets a chain that checks and a name that does not.
    (
      cd "$dir/server"
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
        -subj "/CN=seedance test CA" -keyout ca.key -out ca.pem \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=localhost" -keyout server.key -out server.csr
      printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' > server.ext
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 \
        -extfile server.ext -out server.crt
      rm -f ca.key server.csr server.ext ca.srl
      chmod 600 server.key
      if [ "$(id -u)" -eq 0 ]; then chown postgres server.key server.crt; fi
    ) >"$dir/server/tls.log" 2>&1 || { cat "$dir/server/tls.log" >&2; exit 1; }
    cp "$dir/server/ca.pem" "$dir/ca.pem"
    tls="-c ssl=on -c ssl_cert_file=$dir/server/server.crt -c ssl_key_file=$dir/server/server.key"
    started=
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      port=$(( 20000 + RANDOM % 30000 ))
      # A port something already answers on is taken; the server's own bind decides the rest.
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
      if as_owner "$bin/pg_ctl" -D "$dir/server/data" -l "$dir/server/log" -w -t 60 \
          -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/server -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 $tls" \
          start >/dev/null; then
        started=1
        break
      fi
    done
    [ -n "$started" ] || { tail -n 20 "$dir/server/log" >&2; exit 1; }
    printf '127.0.0.1:%s:*:seedance:%s\n' "$port" "$password" > "$dir/pgpass"
    chmod 600 "$dir/pgpass"
    echo "export SEEDANCE_TEST_POSTGRES='postgres://seedance@127.0.0.1:$port/postgres'"
    echo "export PGPASSWORD='$password'"
    echo "export PGPASSFILE='$dir/pgpass'"
    echo "export SEEDANCE_TEST_POSTGRES_CA='$dir/ca.pem'"
    ;;
  stop)
    [ -d "$dir/server/data" ] || exit 0
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$dir/server/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
