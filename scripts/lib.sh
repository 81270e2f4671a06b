# Shared helpers for scripts/serve and scripts/test (sourced, not run).
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root for: $* (run as root or install sudo)"
    fi
}

# Print those of the given Debian packages that are not installed.
missing_debs() {
    local pkg status
    for pkg in "$@"; do
        status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
        case "$status" in
            *" installed") ;;
            *) printf '%s\n' "$pkg" ;;
        esac
    done
}

# Install the given Debian packages that are missing; no apt at all when none is.
ensure_debs() {
    local missing
    command -v dpkg-query >/dev/null 2>&1 || die "not a Debian system (no dpkg-query)"
    missing="$(missing_debs "$@" | tr '\n' ' ')"
    missing="${missing% }"
    if [ -z "$missing" ]; then
        return 0
    fi
    say "installing Debian packages: $missing"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing </dev/null
}

# Print python3-tk when python3 has no tkinter (the peer's window and the tests' X clients).
tk_debs() {
    if ! python3 -c 'import tkinter' >/dev/null 2>&1; then
        printf '%s\n' python3-tk
    fi
}

# Print a Python >= 3.11 that can create a venv with pip, or nothing.
find_python() {
    local candidate
    for candidate in python3 /usr/bin/python3 python3.13 python3.12 python3.11; do
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" - <<'PY' >/dev/null 2>&1
import sys
import ensurepip  # noqa: F401  (Debian ships it in python3-venv)
import venv  # noqa: F401

sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
        then
            command -v "$candidate"
            return 0
        fi
    done
    return 0
}

# Whether the extras "[a,b]" include every extra of "[c]" ("" is included in anything).
extras_cover() {
    local have=",${1//[\[\] ]/}," item
    local want="${2//[\[\] ]/}"
    IFS=',' read -r -a items <<<"$want"
    for item in "${items[@]}"; do
        [ -z "$item" ] || [[ "$have" == *",$item,"* ]] || return 1
    done
    return 0
}

# "[a,b]" and "[b,c]" -> "[a,b,c]"; "" when both are empty.
extras_union() {
    local joined
    joined="$(printf '%s,%s' "${1//[\[\] ]/}" "${2//[\[\] ]/}" | tr ',' '\n' | sed '/^$/d' |
        sort -u | paste -sd, -)"
    [ -z "$joined" ] || printf '[%s]' "$joined"
}

# Create (or repair) the venv and install the project with the given extras, e.g. "" or "[test]".
# Quick when nothing changed: a stamp holds the hash of pyproject.toml and the extras.
ensure_venv() {
    local extras="$1" py stamp want have
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        py="$(find_python)"
        if [ -z "$py" ]; then
            ensure_debs python3 python3-venv
            py="$(find_python)"
            [ -n "$py" ] || die "no Python >= 3.11 with venv found"
        fi
        say "creating $VENV with $py"
        rm -rf "$VENV"
        "$py" -m venv "$VENV"
    fi
    stamp="$VENV/.supportlink-installed"
    want="$(sha256sum <"$REPO_ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && "$VENV/bin/python" -c 'import signaling' >/dev/null 2>&1; then
        have="$(cat "$stamp")"
        # An install with more extras ("[test,build]") also serves one with fewer ("[build]").
        if [ "${have%% *}" = "$want" ] && extras_cover "${have#* }" "$extras"; then
            return 0
        fi
        # Keep the extras installed before, so that two scripts do not take turns reinstalling.
        extras="$(extras_union "${have#* }" "$extras")"
    fi
    say "installing SupportLink into $VENV (pip install -e .$extras)"
    (cd "$REPO_ROOT" && "$VENV/bin/python" -m pip install -q -e ".$extras")
    printf '%s\n' "$want $extras" >"$stamp"
}
