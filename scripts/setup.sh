# Sourced by scripts/demo and scripts/test: installs what the build needs when it is missing.
# LMDB comes from Debian's liblmdb-dev, found through pkg-config.

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_lmdb() {
    if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists lmdb; then
        return
    fi
    echo "setup: installing liblmdb-dev and pkg-config with apt-get" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liblmdb-dev pkg-config >/dev/null
}

ensure_jsonschema() {
    if python3 -c 'import jsonschema, referencing' 2>/dev/null; then
        return
    fi
    echo "setup: installing the Python jsonschema package (for the schema tests)" >&2
    python3 -m pip install --quiet 'jsonschema>=4.18'
}

ensure_sqlite() {
    if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists sqlite3; then
        return
    fi
    echo "setup: installing libsqlite3-dev with apt-get (the benchmarks' SQLite peer)" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsqlite3-dev pkg-config >/dev/null
}

ensure_eventsourcing() {
    if python3 -c 'import eventsourcing' 2>/dev/null; then
        return
    fi
    echo "setup: installing the Python eventsourcing package (the benchmarks' library peer)" >&2
    python3 -m pip install --quiet 'eventsourcing>=9.3,<10'
}
