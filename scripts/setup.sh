# Sourced by scripts/demo, scripts/test and scripts/bench: installs what they need when it is
# missing. C libraries come from Debian, found through pkg-config; Python packages from PyPI.

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_library PKG-CONFIG-NAME DEBIAN-PACKAGE WHAT-FOR
ensure_library() {
    if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$1"; then
        return
    fi
    echo "setup: installing $2 and pkg-config with apt-get ($3)" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" pkg-config >/dev/null
}

# ensure_command COMMAND DEBIAN-PACKAGE WHAT-FOR
ensure_command() {
    if command -v "$1" >/dev/null 2>&1; then
        return
    fi
    echo "setup: installing $2 with apt-get ($3)" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

# ensure_python_package IMPORT-CHECK PIP-REQUIREMENT WHAT-FOR
ensure_python_package() {
    if python3 -c "import $1" 2>/dev/null; then
        return
    fi
    echo "setup: installing the Python package $2 ($3)" >&2
    python3 -m pip install --quiet "$2"
}

ensure_lmdb() { ensure_library lmdb liblmdb-dev "the ledger's storage"; }
ensure_libcrypto() { ensure_library libcrypto libssl-dev "SHA-256 of the hash chain and the Merkle tree"; }
ensure_sqlite() { ensure_library sqlite3 libsqlite3-dev "the benchmarks' SQLite peer"; }
ensure_jsonschema() { ensure_python_package "jsonschema, referencing" 'jsonschema>=4.18' "the schema tests"; }
ensure_cryptography() { ensure_python_package cryptography.hazmat.primitives.asymmetric.ed25519 'cryptography>=41' "the README's dossier-proof recipe (Ed25519)"; }
ensure_wrk() { ensure_command wrk wrk "the HTTP load benchmark"; }
ensure_schemathesis() { ensure_python_package schemathesis 'schemathesis>=4.32,<5' "checking the HTTP API against schemas/openapi.yaml"; }
ensure_html5lib() { ensure_python_package html5lib 'html5lib>=1.1' "the HTML pages' strict parse (a WHATWG parser)"; }
# ensure_chromium: Debian's Chromium, which the page tests render every HTML page with (headless).
ensure_chromium() {
    if command -v chromium >/dev/null 2>&1; then
        return
    fi
    echo "setup: installing chromium with apt-get (the HTML pages are rendered by a real browser in the tests)" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}
ensure_eventsourcing() { ensure_python_package eventsourcing 'eventsourcing>=9.3,<10' "the benchmarks' library peer"; }
