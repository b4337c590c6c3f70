# Sourced by .ci/run: start a throwaway PostgreSQL server for the distributed-tuning test and
# export GRADWISE_TEST_POSTGRES_URL. Best effort: where no server can be had (no apt-get, no
# network), nothing is exported and that one test is reported as skipped. Never fails the run.
start_test_postgres() {
    local bin data port=54329
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ -z "$bin" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q postgresql >/dev/null 2>&1 \
            || { timeout 300 apt-get update -q >/dev/null 2>&1 \
                 && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q postgresql \
                    >/dev/null 2>&1; }
        bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    fi
    if [ -z "$bin" ] || ! id postgres >/dev/null 2>&1; then
        echo "ci: no PostgreSQL server; the PostgreSQL tuning test will be skipped"
        return 0
    fi
    data=$(mktemp -d /tmp/gradwise-ci-pg.XXXXXX)
    chown postgres "$data"
    if su postgres -c "$bin/initdb -D $data -A trust -U postgres" >/dev/null 2>&1 \
        && su postgres -c "$bin/pg_ctl -D $data -w -l $data/log -o '-p $port -k $data -c listen_addresses=127.0.0.1' start" >/dev/null 2>&1; then
        export GRADWISE_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
        CI_POSTGRES_STOP="su postgres -c '$bin/pg_ctl -D $data -m fast stop' >/dev/null 2>&1; rm -rf $data"
        echo "ci: PostgreSQL test server on 127.0.0.1:$port"
    else
        echo "ci: PostgreSQL did not start; the PostgreSQL tuning test will be skipped"
        rm -rf "$data"
    fi
    return 0
}
