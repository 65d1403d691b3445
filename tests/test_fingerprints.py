"""The cache keys come from the package's own files: the right modules and
data files are in each, and what is left out cannot change a finding."""

import ast

from putlint import fingerprints
from putlint.fingerprints import analysis_files, extractor_files, graph_files, imported_files, package_files


def test_the_extractor_is_the_parser_what_it_imports_and_the_data_it_names():
    files = set(extractor_files())
    assert {
        "parse/__init__.py",
        "parse/_nodes.py",
        "queries/facts.scm",
        "facts.py",
        "kernel/apis.py",
        "kernel/apis.yaml",
        "tree.py",
    } <= files
    # On-demand readings and the graph are not indexed: changing them must not reindex a tree.
    assert files.isdisjoint(
        {"parse/onsite.py", "queries/body.scm", "queries/origins.scm", "kernel/assertions.yaml", "kernel/layout.yaml"}
    )
    assert not any(name.startswith(("graph", "search")) for name in files)


def test_the_saved_program_is_keyed_by_the_graph_and_the_tree_layout():
    files = set(graph_files())
    assert {"kernel/layout.py", "kernel/layout.yaml", "facts.py"} <= files
    assert any(name.startswith("graph") for name in files)
    assert not any(name.startswith(("parse", "search", "queries")) for name in files)


def test_every_module_is_in_a_cache_key_or_presents_results():
    keyed = set(extractor_files()) | set(analysis_files())
    for name in package_files():
        assert name in keyed or name.startswith((*fingerprints.PRESENTATION, "rules/")), name


def test_no_analysis_module_imports_a_presentation_module():
    """Leaving cli, report and hook out of the findings key is sound only if
    nothing that computes findings runs their code."""
    for name in analysis_files():
        if name.endswith(".py"):
            assert not [i for i in imported_files(name) if i.startswith(fingerprints.PRESENTATION)], name


def test_every_data_file_is_named_by_a_module():
    """A data file read through a name the scan cannot see would be missing
    from the key of the code that reads it."""
    modules = [name for name in package_files() if name.endswith(".py")]
    for data in package_files():
        if data.endswith((".scm", ".yaml")) and not data.startswith("rules/"):
            assert any(fingerprints._names_file(module, data) for module in modules), data


def _imports_by_ast(name: str) -> set[str]:
    module = fingerprints._module_name(name)
    package = module if name.endswith("__init__.py") else module.rsplit(".", 1)[0]
    modules = []
    for node in ast.walk(ast.parse((fingerprints.ROOT / name).read_bytes(), name)):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = fingerprints._absolute(node.level, node.module or "", package)
            modules.append(base)
            modules.extend(f"{base}.{alias.name}" for alias in node.names)
    return {file for file in map(fingerprints._module_file, modules) if file is not None}


def test_imports_are_read_as_python_reads_them():
    for name in package_files():
        if name.endswith(".py"):
            assert set(imported_files(name)) == _imports_by_ast(name), name
