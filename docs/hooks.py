"""MkDocs hooks: pages kept outside docs/ join the site, and their links keep working.

README.md is the site's front page and benchmarks/README.md its benchmarks page, so neither
is copied into docs/ (a copy would go stale). Their links are written for GitHub, relative to
where the files sit in the repository; this hook rewrites every relative link of every page
to the site's layout:

- a link to a page of the site (a file in docs/, or one of the pages below) points to it;
- a link to another file that exists in the repository (a script, the Makefile) becomes its
  path in code font, since the site does not carry the sources;
- a link to a file that does not exist is left as it is, so that ``mkdocs build --strict``
  reports it and fails.

The docstrings of the API reference are numpydoc with Sphinx roles (``:class:`Trainer```);
mkdocstrings shows the role's name before the code, so the roles are dropped from the HTML.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mkdocs.structure.files import File

# Site page -> the repository file it is made from.
EXTERNAL_PAGES = {"index.md": "README.md", "benchmarks.md": "benchmarks/README.md"}

# [text](target) and ![alt](target), target without spaces; a title after it is kept.
LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
FENCE = re.compile(r"^(```|~~~)")
# ":class:<code>~aekit.train.Trainer</code>" as mkdocstrings renders a Sphinx role.
SPHINX_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|obj|exc|const):<code>~?")


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def on_files(files, config):
    root = _root(config)
    for page, source in EXTERNAL_PAGES.items():
        files.append(File.generated(config, page, abs_src_path=str(root / source)))
    return files


def _rewrite(target: str, source_dir: Path, page_dir: Path, docs: Path, root: Path) -> str:
    """The site's link for ``target``, a link written relative to ``source_dir``."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
        return target  # a URL, an anchor on this page, or an absolute path
    path, _, anchor = target.partition("#")
    resolved = (source_dir / path).resolve()
    suffix = f"#{anchor}" if anchor else ""
    for page, source in EXTERNAL_PAGES.items():
        if resolved == (root / source).resolve():
            return os.path.relpath(docs / page, page_dir).replace(os.sep, "/") + suffix
    if resolved.is_relative_to(docs) or not resolved.exists():
        return os.path.relpath(resolved, page_dir).replace(os.sep, "/") + suffix
    return ""  # a file outside the site: the caller writes its path instead


def on_page_markdown(markdown, page, config, files):
    root, docs = _root(config), Path(config.docs_dir).resolve()
    src_uri = page.file.src_uri
    source = root / EXTERNAL_PAGES.get(src_uri, f"{docs.relative_to(root)}/{src_uri}")
    page_dir = (docs / src_uri).parent

    def replace(match: re.Match) -> str:
        opening, target, closing = match.groups()
        new = _rewrite(target, source.parent, page_dir, docs, root)
        if new:
            return opening + new + closing
        shown = (source.parent / target.partition("#")[0]).resolve().relative_to(root)
        path = f"`{shown.as_posix()}`"
        text = opening[1:-2] if not opening.startswith("!") else opening[2:-2]
        same = text.strip("`").rstrip("/") == shown.as_posix()
        return path if same else f"{text} ({path})"

    # Prose between code fences, rewritten whole: a link's text may wrap onto the next line.
    out, prose, in_fence = [], [], False
    for line in markdown.splitlines(keepends=True):
        if FENCE.match(line.lstrip()):
            if not in_fence:
                out.append(LINK.sub(replace, "".join(prose)))
                prose = []
            in_fence = not in_fence
            out.append(line)
        elif in_fence:
            out.append(line)
        else:
            prose.append(line)
    out.append(LINK.sub(replace, "".join(prose)))
    return "".join(out)


def on_page_content(html, page, config, files):
    return SPHINX_ROLE.sub("<code>", html)
