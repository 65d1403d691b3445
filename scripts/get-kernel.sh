#!/usr/bin/env bash
# Fetch and cache a real kernel tree from Debian's linux-source-<version> package.
# Prints the tree's path on stdout; a second call with the tree cached is instant.
#   scripts/get-kernel.sh [VERSION]     (default 6.12)
# Cache: $PUTLINT_KERNEL_CACHE, default ~/.cache/putlint/kernels. Nothing is written elsewhere
# except apt's own package lists when they must be refreshed.
set -euo pipefail

version="${1:-6.12}"
cache="${PUTLINT_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/putlint/kernels}"
tree="$cache/linux-source-$version"

if [ -f "$tree/.putlint-complete" ]; then
    echo "$tree"
    exit 0
fi

command -v apt-get >/dev/null || { echo "get-kernel: apt-get not found; point putlint at a kernel tree instead" >&2; exit 2; }
mkdir -p "$cache"
work=$(mktemp -d "$cache/.fetch-$version.XXXXXX")
trap 'rm -rf "$work"' EXIT

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

download() { (cd "$work" && apt-get download -q "linux-source-$version") >&2; }
if ! download; then
    echo "get-kernel: refreshing apt package lists" >&2
    "${sudo_cmd[@]}" apt-get update -q >&2
    download || { echo "get-kernel: cannot download linux-source-$version" >&2; exit 2; }
fi

deb=$(ls "$work"/linux-source-"$version"_*.deb | head -n 1)
echo "get-kernel: extracting $(basename "$deb")" >&2
mkdir "$work/deb"
dpkg-deb -x "$deb" "$work/deb"
tarball=$(ls "$work"/deb/usr/src/linux-source-"$version".tar.* | head -n 1)
mkdir "$work/src"
tar -xf "$tarball" -C "$work/src"
extracted="$work/src/linux-source-$version"
[ -d "$extracted" ] || extracted=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d | head -n 1)
basename "$deb" > "$extracted/.putlint-complete"
rm -rf "$tree"
mv "$extracted" "$tree"
echo "$tree"
