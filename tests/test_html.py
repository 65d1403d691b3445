"""`--format html`: one self-contained, autoescaped page; the chain pictures,
links and source excerpts; a check-patch page; and the page in a real headless
Chromium (findings list, filters, an SVG chain on screen, a screenshot)."""

from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

import browser
from putlint.cli import cli, main
from putlint.findings import Hop
from putlint.report import ReportContext, html
from putlint.ruleset import load_rules
from putlint.scan import scan
from putlint.tree import open_tree
from trees import TREE

FIXTURES = Path(__file__).parent / "fixtures"
PATCHES = FIXTURES / "patches"
ELIXIR = "https://elixir.bootlin.com/linux/v6.12/source/{path}#L{line}"


class Page(HTMLParser):
    """Tags with their attributes, those of each finding's body (inert text until
    the finding is opened) included, as the page draws them."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.bodies: list[str] = []
        self._in_body = False
        self.feed(text)
        self.close()
        for body in self.bodies:
            self.tags.extend(Page(body).tags)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_body = tag == "script" and dict(attrs).get("class") == "finding-body"

    def handle_data(self, data):
        if self._in_body:
            self.bodies.append(data)
            self._in_body = False

    def all(self, tag, **wanted):
        return [attrs for name, attrs in self.tags if name == tag
                and all(attrs.get(k.replace("_", "-")) == v for k, v in wanted.items())]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def run(cache):
    return scan(open_tree(TREE), load_rules(), cache, jobs=1)


def numbered(run, function: str) -> tuple[int, object]:
    """(number on the page, finding) of the one finding `function` makes."""
    ((number, finding),) = [(n, f) for n, f in enumerate(run.findings, 1) if f.function == function]
    return number, finding


def page_of(run, **context) -> str:
    out = []

    class Out:
        write = out.append

    html.render(run, Out, ReportContext.of(load_rules(), **context))
    return "".join(out)


def test_the_page_needs_nothing_from_the_network(run):
    text = page_of(run)
    page = Page(text)
    assert [tag for tag, _ in page.tags if tag in ("link", "img", "iframe", "object", "embed")] == []
    assert all("src" not in attrs for tag, attrs in page.tags)
    scripts = [attrs for attrs in page.all("script")]
    assert scripts[-1] == {} and all(attrs == {"type": "text/html", "class": "finding-body"} for attrs in scripts[:-1])
    assert "@import" not in text and "url(http" not in text and "//fonts." not in text
    (policy,) = page.all("meta", http_equiv="Content-Security-Policy")
    assert policy["content"].startswith("default-src 'none';")
    # links to the source are the only URLs, and they are file URLs into the tree by default
    links = {attrs["href"] for attrs in page.all("a")}
    assert links and all(link.startswith(TREE.resolve().as_uri() + "/") for link in links)


def test_each_finding_has_its_chain_picture_and_source(run):
    page = Page(page_of(run, source_url=ELIXIR))
    findings = page.all("details")
    assert [f["id"] for f in findings] == [f"f{n}" for n in range(1, 44)]
    number, _ = numbered(run, "ceph_mdsc_release_request")
    messenger = findings[number - 1]
    assert (messenger["data-context"], messenger["data-subsystem"], messenger["data-severity"],
            messenger["data-confidence"]) == ("ceph-messenger", "ceph", "warning", "medium")
    body = Page(page.bodies[number - 1])
    hops = [(a["data-chain"], a["data-function"], a["href"]) for a in body.all("a") if "data-chain" in a]
    url = "https://elixir.bootlin.com/linux/v6.12/source/"
    assert hops[:11] == [
        ("reach", "ceph_con_workfn", url + "net/ceph/messenger.c#L8"),
        ("reach", "ceph_con_process_message", url + "net/ceph/messenger.c#L12"),
        ("reach", "mds_dispatch", url + "net/ceph/messenger.c#L5"),
        ("reach", "handle_reply", url + "fs/ceph/mds_client.c#L32"),
        ("reach", "ceph_mdsc_release_request", url + "fs/ceph/mds_client.c#L14"),
        ("reach", "iput", url + "fs/ceph/mds_client.c#L9"),
        ("teardown", "iput", url + "fs/inode.c#L19"),
        ("teardown", "iput_final", url + "fs/inode.c#L22"),
        ("teardown", "evict", url + "fs/inode.c#L16"),
        ("teardown", "ceph_evict_inode", url + "fs/inode.c#L9"),
        ("teardown", "netfs_wait_for_outstanding_io", url + "fs/ceph/inode.c#L6"),
    ]
    assert len(hops) == 11
    assert [a["class"] for a in body.all("a") if "data-chain" in a] == [
        "hop hop-entry", *["hop hop-call"] * 4, "hop hop-put", "hop hop-put", *["hop hop-call"] * 3, "hop hop-wait"]


def test_edges_say_how_each_hop_was_reached_and_the_source_marks_the_put(run):
    _, finding = numbered(run, "ceph_mdsc_release_request")
    view = html._view("f2", finding, html.linker(TREE, ""), lambda path: (TREE / path).read_bytes())
    labels = [arrow.label for arrow in view.picture.arrows]
    assert labels == ["call", "(struct ceph_connection_operations)->dispatch", "call", "callback via kref_put",
                      "call", "call", "call", "(struct super_operations)->evict_inode",
                      "wait: waits for the inode's outstanding netfs re…", "drops the reference"]
    put, wait = view.snippets
    assert (put.title, put.where) == ("put: iput() in ceph_mdsc_release_request", "fs/ceph/mds_client.c:9")
    assert [(n, here) for n, _, here in put.lines] == [(6, False), (7, False), (8, False), (9, True), (10, False),
                                                       (11, False), (12, False)]
    assert put.lines[3][1] == "        iput(req->r_inode);"
    assert (wait.title, wait.where) == ("wait: netfs_wait_for_outstanding_io in ceph_evict_inode", "fs/ceph/inode.c:6")
    assert [text.strip() for n, text, here in wait.lines if here] == ["netfs_wait_for_outstanding_io(inode);"]


def test_everything_from_the_tree_is_escaped(run):
    hostile = replace(run.findings[0], function="<img src=x onerror=alert(1)>", message="a <b>bold</b> & claim",
                      reach=(Hop("<script>x()</script>", "fs/ceph/mds_client.c", 9, "call"), *run.findings[0].reach[1:]))
    text = page_of(replace(run, findings=(hostile,)))
    assert "<img src=x" not in text and "<script>x()" not in text and "<b>bold</b>" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text and "a &lt;b&gt;bold&lt;/b&gt; &amp; claim" in text
    assert Page(text).all("img") == []


def test_summary_counts_by_context_subsystem_severity_and_confidence(run):
    views = [html._view(f"f{n}", f, html.linker(TREE, ""), lambda p: None) for n, f in enumerate(run.findings, 1)]
    assert html.summary(views) == [
        ("context", "Context", [("writeback", 30), ("ceph-messenger", 6), ("reclaim", 6)]),
        ("subsystem", "Subsystem", [("finfs", 16), ("wbfs", 12), ("ceph", 6), ("generic", 4), ("walkfs", 2),
                                    ("gfpfs", 1), ("nofailfs", 1)]),
        ("severity", "Severity", [("error", 31), ("warning", 9), ("note", 2)]),
        ("confidence", "Confidence", [("medium", 28), ("high", 12), ("low", 2)]),
    ]


def test_a_bad_source_url_is_an_input_error_before_the_scan(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["scan", str(TREE), "-f", "html", "--source-url", "https://x/{file}#L{line}", "--cache-dir", str(tmp_path)])
    assert done.value.code == 2
    assert capsys.readouterr().err == (
        "putlint: error: --source-url 'https://x/{file}#L{line}': 'file'\n")
    assert not (tmp_path / "index").exists()


def test_check_patch_page_per_patch(cache, tmp_path):
    output = tmp_path / "check.html"
    result = CliRunner().invoke(cli, ["check-patch", str(PATCHES / "series.mbox"), "--tree", str(TREE),
                                      "--cache-dir", str(cache), "-f", "html", "-o", str(output)])
    assert result.exit_code == 1 and result.stdout == ""
    text = output.read_text()
    page = Page(text)
    assert [a["id"] for a in page.all("article")] == ["patch-1", "patch-2"]
    assert "series: 1 new, 1 fixed, 42 unchanged" in text
    assert "<span class=\"patch-number\">1</span> [PATCH 1/2] wbfs: drop the inode at once when the work is already" \
           " queued</h2>" in text
    assert '<p class="patch-counts">1 new, 0 fixed, 43 unchanged</p>' in text
    assert '<p class="patch-counts">0 new, 1 fixed, 43 unchanged</p>' in text
    new, fixed = page.all("details")
    assert (new["class"], fixed["class"]) == ("finding state-new", "finding state-fixed")
    assert 'introduced by the added line\n<a href="' + (TREE.resolve() / "fs/wbfs/inode.c").as_uri() \
           + '">fs/wbfs/inode.c:22</a>' in text
    # the excerpt of the new put is from the patched text, that of the fixed one from before patch 2
    assert '<span class="here"><span class="ln">22</span>                iput(w-&gt;inode);' in text
    assert '<span class="here"><span class="ln">6</span>        iput(inode);' in text


# -- in a real browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium():
    try:
        return browser.ensure_chromium()
    except browser.BrowserUnavailable as reason:
        pytest.skip(str(reason))


def visible(page, selector: str) -> list[str]:
    """ids of the elements matching `selector` that are laid out with a size (not hidden)."""
    return page.evaluate(
        f"Array.from(document.querySelectorAll({selector!r})).filter(e => {{ const r = e.getBoundingClientRect();"
        " return r.width > 0 && r.height > 0; }).map(e => e.id || e.tagName)")


def test_the_report_in_headless_chromium(chromium, cache, run, tmp_path):
    report = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["scan", str(TREE), "--cache-dir", str(cache), "-j", "1", "-f", "html",
                                      "-o", str(report)])
    assert result.exit_code == 1

    def ids(keep):
        return [f"f{n}" for n, finding in enumerate(run.findings, 1) if keep(finding)]

    assert ids(lambda f: f.suppressed) == ["f34"] and ids(lambda f: "walkfs" in f.path) == ["f29", "f30"]
    assert ids(lambda f: f.context == "reclaim") == ["f7", "f8", "f9", "f10", "f27", "f28"]
    messenger, _ = numbered(run, "ceph_mdsc_release_request")
    with browser.Browser(chromium, tmp_path / "profile", 1280, 1000) as page:
        page.open(report.as_uri())
        assert visible(page, "details.finding") == ids(lambda f: not f.suppressed)
        assert page.evaluate("document.getElementById('shown-count').textContent") == "42 of 43 finding(s)"
        assert page.evaluate("document.querySelectorAll('svg.chain').length") == 0  # drawn when opened
        assert page.evaluate("document.querySelectorAll('script.finding-body').length") == 43
        page.type_into("#filter-text", "walkfs")
        assert visible(page, "details.finding") == ["f29", "f30"]
        assert page.evaluate("document.getElementById('shown-count').textContent") == "2 of 43 finding(s)"
        page.evaluate("const t = document.getElementById('filter-text'); t.value = '';"
                      " t.dispatchEvent(new Event('input'))")
        page.click(".summary tr[data-filter-value='reclaim']")
        assert visible(page, "details.finding") == ["f7", "f8", "f9", "f10", "f27", "f28"]
        assert page.evaluate("document.getElementById('filter-context').value") == "reclaim"
        page.click(".summary tr[data-filter-value='reclaim']")  # again: all contexts
        page.click("#filter-suppressed")
        assert len(visible(page, "details.finding")) == 43
        page.click("#filter-suppressed")
        page.click(f"#f{messenger} > summary")
        assert visible(page, "svg.chain") == ["svg"]
        names = page.evaluate(f"Array.from(document.querySelectorAll('#f{messenger} svg.chain .hop-name'))"
                              ".map(t => t.textContent)")
        assert names == ["ceph_con_workfn", "ceph_con_process_message", "mds_dispatch", "handle_reply",
                         "ceph_mdsc_release_request", "iput", "iput", "iput_final", "evict", "ceph_evict_inode",
                         "netfs_wait_for_outstanding_io"]
        within = page.evaluate(f"(() => {{ const r = document.querySelector('#f{messenger} svg.chain')"
                               ".getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight + 400"
                               " && r.width > 800; })()")
        assert within
        page.evaluate("window.scrollTo(0, 0)")
        shot = tmp_path / "report.png"
        page.screenshot(shot, full_page=False)
    # the screenshot stays under the pytest temp dir; docs/report.png comes from test_real_report.py
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and 20_000 < shot.stat().st_size < 1_000_000
