"""scripts/get-kernel.sh against stand-ins for apt-get, apt-cache and dpkg-deb
on PATH (no network, no real download): the lists are refreshed first, the
pinned version is asked for by name, an unavailable one fails naming those
apt has, apt's "unsandboxed" warning is dropped, and a cached tree of another
version is replaced instead of returned."""

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "scripts" / "get-kernel.sh"

APT_GET = r"""#!/bin/sh
echo "apt-get $*" >> "$STUB_LOG"
case "$1" in
  update) echo "Hit:1 http://deb.example bookworm InRelease" ;;
  download)
    ver="${3#*=}"; pkg="${3%%=*}"
    printf 'deb' > "${pkg}_${ver}_all.deb"
    echo "W: Download is performed unsandboxed as root as file '$PWD/x.deb' couldn't be accessed by user '_apt'. - pkgAcquire::Run (13: Permission denied)" >&2
    ;;
esac
"""
APT_CACHE = r"""#!/bin/sh
echo "apt-cache $*" >> "$STUB_LOG"
for v in $STUB_VERSIONS; do echo " $2 | $v | http://deb.example bookworm/main amd64 Packages"; done
"""
DPKG_DEB = r"""#!/bin/sh
# dpkg-deb -x DEB DIR: a package holding the source tarball
mkdir -p "$3/usr/src" "$STUB_WORK/linux-source-6.1"
printf 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\n' > "$STUB_WORK/linux-source-6.1/Makefile"
tar -czf "$3/usr/src/linux-source-6.1.tar.gz" -C "$STUB_WORK" linux-source-6.1
"""


@pytest.fixture
def stubs(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("apt-get", APT_GET), ("apt-cache", APT_CACHE), ("dpkg-deb", DPKG_DEB)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (tmp_path / "work").mkdir()
    return tmp_path


def get_kernel(stubs, versions, *args):
    env = {**os.environ, "PATH": f"{stubs / 'bin'}:{os.environ['PATH']}", "STUB_LOG": str(stubs / "log"),
           "STUB_VERSIONS": versions, "STUB_WORK": str(stubs / "work"), "PUTLINT_KERNEL_CACHE": str(stubs / "cache")}
    if os.geteuid() != 0:
        pytest.skip("the script runs apt-get through sudo when not root")
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60)


def log(stubs):
    path = stubs / "log"
    return path.read_text().splitlines() if path.exists() else []


def test_the_pinned_version_is_fetched_after_refreshing_the_lists(stubs):
    done = get_kernel(stubs, "6.1.192-3 6.1.176-1", "6.1")
    assert done.returncode == 0, done.stderr
    tree = Path(done.stdout.strip())
    assert tree == stubs / "cache" / "linux-source-6.1"
    assert (tree / ".putlint-complete").read_text() == "linux-source-6.1_6.1.192-3_all.deb\n"
    assert (tree / "Makefile").is_file()
    assert log(stubs) == ["apt-get update -q", "apt-cache madison linux-source-6.1",
                          "apt-get download -q linux-source-6.1=6.1.192-3"]
    assert "unsandboxed" not in done.stderr
    again = get_kernel(stubs, "", "6.1")  # cached: instant, apt not asked
    assert again.stdout.strip() == str(tree) and len(log(stubs)) == 3


def test_an_unavailable_pinned_version_fails_naming_the_ones_apt_has(stubs):
    done = get_kernel(stubs, "6.1.176-1 6.1.170-3", "6.1")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines()[-1] == (
        "get-kernel: linux-source-6.1 6.1.192-3 is not available from apt; available: 6.1.170-3 6.1.176-1")
    assert not (stubs / "cache" / "linux-source-6.1").exists()


def test_a_cached_tree_of_another_version_is_replaced_not_returned(stubs):
    stale = stubs / "cache" / "linux-source-6.1"
    stale.mkdir(parents=True)
    (stale / ".putlint-complete").write_text("linux-source-6.1_6.1.176-1_all.deb\n")
    done = get_kernel(stubs, "6.1.192-3", "6.1")
    assert done.returncode == 0, done.stderr
    assert ("get-kernel: " + str(stale) + " holds linux-source-6.1_6.1.176-1_all.deb,"
            " not linux-source-6.1_6.1.192-3_all.deb; fetching") in done.stderr
    assert (stale / ".putlint-complete").read_text() == "linux-source-6.1_6.1.192-3_all.deb\n"


def test_a_version_without_a_pin_is_refused(stubs):
    done = get_kernel(stubs, "", "5.10")
    assert done.returncode == 2
    assert done.stderr.strip() == "get-kernel: no pinned Debian version for linux 5.10 (known: 6.12, 6.1)"
