#!/usr/bin/env bash
# Fetch and cache a real kernel tree: Debian's linux-source-<version> package, always at the
# exact version the tests were written against. Prints the tree's path on stdout; a second
# call with that version cached is instant.
#   scripts/get-kernel.sh [VERSION]     (6.12 -> 6.12.117-1~deb12u1, 6.1 -> 6.1.192-3; default 6.12)
# Cache: $PUTLINT_KERNEL_CACHE, default ~/.cache/putlint/kernels. A cached tree of another
# version is replaced, never returned for the pinned one. Nothing is written elsewhere except
# apt's own package lists, refreshed before every download (stale lists fetch old versions).
set -euo pipefail

version="${1:-6.12}"
case "$version" in
    6.12) pinned="6.12.117-1~deb12u1" ;;
    6.1) pinned="6.1.192-3" ;;
    *) echo "get-kernel: no pinned Debian version for linux $version (known: 6.12, 6.1)" >&2; exit 2 ;;
esac
package="linux-source-$version"
deb="${package}_${pinned}_all.deb"
cache="${PUTLINT_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/putlint/kernels}"
tree="$cache/$package"

if [ -f "$tree/.putlint-complete" ]; then
    have=$(cat "$tree/.putlint-complete")
    if [ "$have" = "$deb" ]; then
        echo "$tree"
        exit 0
    fi
    echo "get-kernel: $tree holds $have, not $deb; fetching $deb" >&2
fi

command -v apt-get >/dev/null || { echo "get-kernel: apt-get not found; point putlint at a kernel tree instead" >&2; exit 2; }
mkdir -p "$cache"
work=$(mktemp -d "$cache/.fetch-$version.XXXXXX")
# apt downloads as the _apt user: give it a directory it can write (no "unsandboxed" warning).
download_dir=$(mktemp -d "${TMPDIR:-/tmp}/putlint-deb.XXXXXX")
trap 'rm -rf "$work" "$download_dir"' EXIT
if id _apt >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    chown _apt "$download_dir"
fi

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
quiet() { grep -v -e 'unsandboxed' -e '^$' >&2 || true; }

echo "get-kernel: refreshing apt package lists" >&2
if ! "${sudo_cmd[@]}" apt-get update -q 2>&1 | quiet; then
    echo "get-kernel: apt-get update failed" >&2
    exit 2
fi
available=$(apt-cache madison "$package" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}' | sort -u)
if ! printf '%s\n' "$available" | grep -qxF "$pinned"; then
    if [ -n "$available" ]; then
        echo "get-kernel: $package $pinned is not available from apt; available: $(echo $available)" >&2
    else
        echo "get-kernel: $package $pinned is not available from apt; it offers no version of $package" \
            "(is a Debian bookworm source listed?)" >&2
    fi
    exit 2
fi
if ! (cd "$download_dir" && "${sudo_cmd[@]}" apt-get download -q "$package=$pinned" 2>&1 | quiet); then
    echo "get-kernel: apt-get download $package=$pinned failed" >&2
    exit 2
fi
[ -f "$download_dir/$deb" ] || { echo "get-kernel: apt-get download did not produce $deb" >&2; exit 2; }

echo "get-kernel: extracting $deb" >&2
mkdir "$work/deb"
dpkg-deb -x "$download_dir/$deb" "$work/deb"
tarball=$(ls "$work"/deb/usr/src/"$package".tar.* | head -n 1)
mkdir "$work/src"
tar -xf "$tarball" -C "$work/src"
extracted="$work/src/$package"
[ -d "$extracted" ] || extracted=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d | head -n 1)
echo "$deb" > "$extracted/.putlint-complete"
rm -rf "$tree"
mv "$extracted" "$tree"
echo "$tree"
