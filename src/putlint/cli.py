"""Command line: `putlint index`, ... Findings go to stdout, diagnostics to
stderr. Exit codes: 0 clean, 1 findings, 2 usage or input error, 123 internal
error (see errors.py)."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import click

from . import __version__, cache, options, store
from .evidence import at_least
from .errors import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INPUT_ERROR,
    EXIT_INTERNAL_ERROR,
    EXIT_INTERRUPTED,
    InputError,
)
from .config import load_config
from .index import IndexRun, update_index
from .outputs import emit, print_config_warnings, sarif_on_input_error
from .report import CHECK_FORMATS, FORMATS, ReportContext, writer
from .ruleset import describe, load_rules
from .scan import scan as run_scan
from .tree import open_tree, relative_scopes

EXIT_CODES_HELP = (
    "Exit codes: 0 clean, 1 findings, 2 usage or input error (or, with --strict, something could not be"
    " analysed), 123 internal error, 130 interrupted (SIGINT)."
)


@click.group(epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="putlint")
def cli() -> None:
    """Find final puts (iput, fput, dput, mntput, ...) reachable from kernel contexts
    whose teardown would wait on that same context."""


@cli.command(epilog=EXIT_CODES_HELP)
@options.tree_arguments
@click.option(
    "--parse-all",
    is_flag=True,
    help="Also parse files that hold only preprocessor lines and comments (skipped by default).",
)
def index(tree, paths, jobs, cache_dir, exclude, parse_all) -> None:
    """Index the C files of a kernel TREE (default: the current directory).

    Only files that changed since the last run are parsed again. PATHS limit
    the run to files or directories inside the tree.
    """
    run = _index(tree, paths, jobs, cache_dir, exclude, parse_all)
    _print_index_summary(run)
    sys.exit(EXIT_CLEAN)


@cli.command(epilog=EXIT_CODES_HELP)
@options.tree_arguments
@options.output_format(FORMATS)
@options.output
@options.source_url
@options.rules
@click.option("--select", multiple=True, metavar="ID", help="Run only these checks (repeatable).")
@click.option("--ignore", multiple=True, metavar="ID", help="Skip these checks (repeatable).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@options.graph_scope
@options.config
@options.no_config
@options.strict
@options.min_confidence
def scan(
    tree, paths, jobs, cache_dir, exclude, output_format, output, source_url, rules_dirs, select, ignore, exit_zero,
    graph_scope, config, no_config, strict, min_confidence,
) -> None:
    """Report final puts that a context reaches while their teardown waits on it.

    Findings are reported where the put lies under PATHS (default: anywhere).
    """
    with sarif_on_input_error(output_format, output) as chosen:
        root = chosen.tree = _tree(tree)
        settings = load_config(root, config, no_config)
        print_config_warnings(settings)
        output_format = chosen.format = output_format or settings.check_format(FORMATS) or "text"
        rules = load_rules(tuple(rules_dirs) or settings.rules).select(
            tuple(select) or settings.select, tuple(ignore) or settings.ignore
        )
        report_scopes = relative_scopes(root, tuple(paths))
        graph_scopes = relative_scopes(root, tuple(graph_scope))
        cache_dir = cache_dir or store.default_cache_dir()
        context = chosen.context = ReportContext.of(
            rules, index_file=store.index_path(cache_dir, root), graph_scopes=graph_scopes,
            source_url=source_url or settings.source_url,
        )
        with _progress() as progress:
            run = run_scan(
                root,
                rules,
                cache_dir,
                report_scopes=report_scopes,
                graph_scopes=graph_scopes,
                excludes=tuple(exclude),
                jobs=jobs,
                allowlist=settings.allowlist,
                progress=progress,
            )
        _print_problems(run.warnings, run.diagnostics)
        run = replace(run, findings=tuple(f for f in run.findings if at_least(f.confidence, min_confidence)))
        emit(writer(output_format, context), run, output)
    _exit_if_strict(strict, run.unanalysed)
    active = sum(1 for finding in run.findings if not finding.suppressed)
    sys.exit(EXIT_FINDINGS if active and not exit_zero else EXIT_CLEAN)


@cli.command("check-patch", epilog=EXIT_CODES_HELP)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--tree", "tree", required=True, type=click.Path(path_type=str), help="The kernel tree the series is for.")
@options.output_format(CHECK_FORMATS)
@options.output
@options.source_url
@options.cache_dir
@options.graph_scope
@options.rules
@options.jobs
@options.config
@options.no_config
@options.strict
@options.min_confidence
def check_patch(
    files, tree, output_format, output, source_url, cache_dir, graph_scope, rules_dirs, jobs, config, no_config, strict,
    min_confidence,
) -> None:
    """Report what a patch series introduces and what it fixes.

    FILES are format-patch files, plain diffs or mbox series ('-' reads stdin).
    The series is applied in memory, never in the tree. Exit 1 when a patch
    introduces a finding.
    """
    from .checkpatch import check_series
    from .patches import read_patches

    with sarif_on_input_error(output_format, output) as chosen:
        root = chosen.tree = open_tree(tree)
        settings = load_config(root, config, no_config)
        print_config_warnings(settings)
        output_format = chosen.format = output_format or settings.check_format(CHECK_FORMATS) or "text"
        ruleset = load_rules(tuple(rules_dirs) or settings.rules).select(settings.select, settings.ignore)
        cache_dir = cache_dir or store.default_cache_dir()
        graph_scopes = relative_scopes(root, tuple(graph_scope))
        context = chosen.context = ReportContext.of(
            ruleset, index_file=store.index_path(cache_dir, root), graph_scopes=graph_scopes,
            source_url=source_url or settings.source_url,
        )
        patches = []
        for name in files:
            if name == "-":
                data = sys.stdin.buffer.read()
            else:
                try:
                    data = Path(name).read_bytes()
                except OSError as error:
                    raise InputError(f"cannot read {name}: {error.strerror}") from None
            patches.extend(read_patches(data, name))
        run = check_series(root, ruleset, cache_dir, patches, graph_scopes, jobs, allowlist=settings.allowlist)
        for warning in run.warnings:
            click.echo(warning, err=True)
        run = _confident(run, min_confidence)
        emit(writer(output_format, context, check=True), run, output)
    _exit_if_strict(strict, run.unanalysed)
    sys.exit(EXIT_FINDINGS if run.blocking else EXIT_CLEAN)


@cli.command(epilog=EXIT_CODES_HELP)
@options.cache_dir
@options.graph_scope
@options.rules
@options.config
@options.no_config
@options.strict
def hook(cache_dir, graph_scope, rules_dirs, config, no_config, strict) -> None:
    """Pre-commit check: findings the staged change introduces against HEAD.

    Run inside a kernel git repository. Exit 1 if the staged change introduces
    a finding, 0 otherwise.
    """
    from .checkpatch import check_series
    from .hook import repository_root, staged_change
    from .report.text import render_new

    root = open_tree(repository_root(Path.cwd()))
    settings = load_config(root, config, no_config)
    print_config_warnings(settings)
    patches, base = staged_change(root)
    if not patches:
        click.echo("putlint: nothing staged")
        sys.exit(EXIT_CLEAN)
    run = check_series(
        root,
        load_rules(tuple(rules_dirs) or settings.rules).select(settings.select, settings.ignore),
        cache_dir or store.default_cache_dir(),
        patches,
        relative_scopes(root, tuple(graph_scope)),
        base=base,
        allowlist=settings.allowlist,
    )
    for warning in run.warnings:
        click.echo(warning, err=True)
    render_new(run, sys.stdout)
    _exit_if_strict(strict, run.unanalysed)
    sys.exit(EXIT_FINDINGS if run.blocking else EXIT_CLEAN)


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("target")
@click.option("--context", "context_id", default=None, metavar="ID", help="Explain for this context only.")
@click.option("--tree", "tree", default=None, type=click.Path(path_type=str), help="The kernel tree (default: $PUTLINT_TREE or .).")
@options.cache_dir
@options.graph_scope
@options.rules
@options.jobs
def explain(target, context_id, tree, cache_dir, graph_scope, rules_dirs, jobs) -> None:
    """Why a put site is reported or not: TARGET is PATH:LINE or a finding's FINGERPRINT.

    For each context: both chains with the code around every hop and the
    finality evidence, or exactly what ruled the put out.
    """
    from .explain import run_explain

    root = _tree(tree)
    text, reported = run_explain(
        root, load_rules(tuple(rules_dirs)), target, context_id, cache_dir or store.default_cache_dir(),
        relative_scopes(root, tuple(graph_scope)), jobs,
    )
    click.echo(text, nl=False)
    sys.exit(EXIT_FINDINGS if reported else EXIT_CLEAN)


@cli.group()
def rules() -> None:
    """List and show the checks (shipped and from --rules)."""


@rules.command("list")
@options.rules
def rules_list(rules_dirs) -> None:
    """One line per check: id, context, severity, confidence."""
    for check in sorted(load_rules(tuple(rules_dirs)).checks.values(), key=lambda c: c.id):
        click.echo(f"{check.id}  context={check.context}  severity={check.severity}  confidence={check.confidence}")


@rules.command("show")
@click.argument("rule_id")
@options.rules
def rules_show(rule_id, rules_dirs) -> None:
    """A check with its context: what it looks for, and why."""
    click.echo("\n".join(describe(load_rules(tuple(rules_dirs)).select((rule_id,), ()), rule_id)))


@cli.command("test-rules", epilog=EXIT_CODES_HELP)
@click.argument("directory", type=click.Path(path_type=Path))
@options.rules
def test_rules(directory, rules_dirs) -> None:
    """Check rules against the // ruleid: and // ok: annotations of a fixture tree."""
    from .ruletest import run_rule_tests

    result = run_rule_tests(directory, load_rules(tuple(rules_dirs)))
    for annotation in result.missing:
        click.echo(f"{annotation.path}:{annotation.line}: missing finding [{annotation.rule}] ({annotation.kind})")
    for path, line, rule in result.unexpected:
        click.echo(f"{path}:{line}: unexpected finding [{rule}]")
    for annotation in result.promote:
        click.echo(f"{annotation.path}:{annotation.line}: reported now: make this todoruleid a ruleid [{annotation.rule}]")
    for annotation in result.misplaced:
        click.echo(f"{annotation.path}:{annotation.line}: annotates {annotation.rule} in another check's case folder")
    for annotation, found in result.wrong_finality:
        click.echo(f"{annotation.path}:{annotation.line}: finality {found}, not {annotation.finality} [{annotation.rule}]")
    for rule in result.untested:
        click.echo(f"rule {rule}: needs at least one // ruleid: and one // ok: case")
    verdict = "passed" if result.passed else "failed"
    click.echo(
        f"rule tests {verdict}: {len(result.annotations)} annotations, {result.findings} findings,"
        f" {len(result.missing)} missing, {len(result.unexpected)} unexpected;"
        f" known gaps: {result.count('todoruleid')} todoruleid, {result.count('todook')} todook"
    )
    sys.exit(EXIT_CLEAN if result.passed else EXIT_FINDINGS)


def _confident(run, minimum: str):
    """A check-patch run with the new findings below `minimum` confidence left out."""
    if minimum == "low":
        return run

    def keep(finding) -> bool:
        return at_least(finding.confidence, minimum)

    patches = tuple(replace(r, new_keys=tuple((k, n) for k, n in r.new_keys if keep(n.finding))) for r in run.patches)
    return replace(run, patches=patches, new=tuple(n for n in run.new if keep(n.finding)),
                   after=tuple(f for f in run.after if keep(f)))


def _index(tree, paths, jobs, cache_dir, exclude, parse_all) -> IndexRun:
    root = _tree(tree)
    scopes = relative_scopes(root, tuple(paths))
    with _progress() as progress:
        return update_index(
            root,
            cache_dir or store.default_cache_dir(),
            scopes=scopes,
            excludes=tuple(exclude),
            jobs=jobs,
            skip_preprocessor_only=not parse_all,
            progress=progress,
        )


def _tree(tree: str | None) -> Path:
    """TREE as given, else $PUTLINT_TREE, else the current directory."""
    return open_tree(tree or os.environ.get("PUTLINT_TREE") or ".")


@contextmanager
def _progress():
    """A progress bar on a terminal's stderr (None elsewhere), ended with a newline."""
    show = _progress_bar() if sys.stderr.isatty() else None
    try:
        yield show
    finally:
        if show is not None:
            click.echo("", err=True)


def _progress_bar():
    state = {"shown": -1}

    def show(done: int, total: int) -> None:
        percent = done * 100 // total
        if percent != state["shown"] or done == total:
            state["shown"] = percent
            bar = "#" * (percent // 4)
            click.echo(f"\rindexing [{bar:<25}] {done}/{total} files", err=True, nl=False)

    return show


def _print_problems(warnings: tuple[str, ...], problems: tuple[tuple[str, str, str], ...]) -> None:
    """Index warnings and per-file diagnostics, on stderr (the first 20 files)."""
    for warning in warnings:
        click.echo(warning, err=True)
    for path, status, message in problems[:20]:
        click.echo(f"{path}: {status}: {message}", err=True)
    if len(problems) > 20:
        click.echo(f"... and {len(problems) - 20} more file diagnostics", err=True)


def _print_index_summary(run: IndexRun) -> None:
    _print_problems(run.warnings, run.problems)
    totals = run.totals
    statuses = run.statuses
    parse_errors = totals["diagnostics"]
    lines = [
        f"tree:          {run.tree}",
        f"index:         {run.index_file}",
        f"files:         {len(run.files)} ({totals['bytes'] / 1e6:.1f} MB); parsed now {run.extracted},"
        f" reused {run.reused}, removed {run.removed}",
        f"skipped:       {statuses.get('skipped', 0)} files ({run.skipped_bytes / 1e6:.1f} MB) with no code"
        " (--parse-all parses them)",
        f"unreadable:    {statuses.get('unreadable', 0)} files",
        f"functions:     {totals['functions']}",
        f"calls:         {totals['calls']}",
        f"callback refs: {totals['refs']}",
        f"ops inits:     {totals['ops_inits']}",
        f"assignments:   {totals['ops_assigns']}",
        f"members:       {totals['members']}",
        f"diagnostics:   {parse_errors + len(run.problems)} ({parse_errors} files with parse errors,"
        f" {len(run.problems)} unreadable or odd files)",
        f"seconds:       {run.seconds:.1f}",
    ]
    click.echo("\n".join(lines))


def _exit_if_strict(strict: bool, unanalysed) -> None:
    if strict and unanalysed:
        click.echo(f"putlint: --strict: {len(unanalysed)} thing(s) could not be analysed (listed in the report)", err=True)
        sys.exit(EXIT_INPUT_ERROR)


def _interrupted() -> int:
    """Ctrl-C: no traceback; the caches are valid (every write is a transaction
    or an atomic rename), and helpers die with this process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while leaving
    click.echo("putlint: interrupted", err=True)
    return EXIT_INTERRUPTED


def main(argv: list[str] | None = None) -> None:
    """Console entry point: map every failure to its documented exit code."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")  # a path that is not UTF-8 prints escaped
    try:
        code = cli.main(args=argv, prog_name="putlint", standalone_mode=False)
    except click.exceptions.Exit as done:
        code = done.exit_code
    except click.ClickException as error:
        error.show()
        code = EXIT_INPUT_ERROR
    except click.exceptions.Abort as abort:
        if isinstance(abort.__cause__, KeyboardInterrupt):
            code = _interrupted()
        else:
            click.echo("putlint: aborted", err=True)
            code = EXIT_INPUT_ERROR
    except InputError as error:
        click.echo(f"putlint: error: {error}", err=True)
        code = EXIT_INPUT_ERROR
    except store.CorruptIndex as error:
        click.echo(f"putlint: error: the index {error}; remove it or run again to rebuild", err=True)
        code = EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        code = _interrupted()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else EXIT_INPUT_ERROR
    except Exception as error:  # noqa: BLE001 - the one place that must catch everything
        if os.environ.get("PUTLINT_DEBUG"):
            traceback.print_exc()
        click.echo(
            f"putlint: internal error: {type(error).__name__}: {error} (set PUTLINT_DEBUG=1 for the traceback)",
            err=True,
        )
        code = EXIT_INTERNAL_ERROR
    finally:
        cache.remove_private_copies()
    sys.exit(code if isinstance(code, int) else EXIT_CLEAN)


def run() -> None:
    """The console script: `main`, then leave without tearing down the analysis
    state object by object (freeing hundreds of MB of small objects takes a
    noticeable part of a second; the kernel frees them at once)."""
    try:
        main()
        code = EXIT_CLEAN
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else EXIT_INPUT_ERROR
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        pass  # a closed pipe: nothing more can be said
    os._exit(code)
