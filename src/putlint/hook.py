"""`putlint hook`: the staged change of a kernel git repository, as a patch
against HEAD, through check-patch. Only what it introduces is reported."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .errors import InputError
from .patches import Patch, patch_set_of, read_patches, tree_path


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except OSError as error:
        raise InputError(f"cannot run git: {error.strerror}") from None


def repository_root(start: Path) -> Path:
    done = _git(start, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        raise InputError(f"{start} is not inside a git repository; `putlint hook` checks staged changes")
    return Path(done.stdout.decode().strip())


def staged_change(repo: Path) -> tuple[list[Patch], dict[str, str | None]]:
    """The staged diff as one patch, and HEAD's text of the files it touches."""
    done = _git(repo, "diff", "--cached", "--no-color", "--no-ext-diff", "-M")
    if done.returncode != 0:
        raise InputError(f"git diff --cached failed: {done.stderr.decode(errors='replace').strip()}")
    if not done.stdout.strip():
        return [], {}
    patches = read_patches(done.stdout, "staged changes")
    base: dict[str, str | None] = {}
    for patched in patch_set_of(patches[0]):
        if patched.is_added_file:
            base[tree_path(patched.target_file)] = None  # not in HEAD, whatever the working tree holds
            continue
        source = tree_path(patched.source_file)
        shown = _git(repo, "show", f"HEAD:{source}")
        base[source] = shown.stdout.decode("utf-8", errors="surrogateescape") if shown.returncode == 0 else None
    return [Patch("staged changes", 1, 1, "git diff --cached", patches[0].diff)], base
