"""The module map (docs/architecture.md) and the tables that open core/, routes/ and gateway/'s
READMEs stay true: every module has its row in both, the rows say the same, a row's line count is
near the .c's real one, and no .c is over the 700 lines the map promises. Needs no broker."""

import re

import pytest

from conftest import REPO

FOLDERS = ("core", "routes", "gateway")
ROW = re.compile(r"^\| `((?:core|routes|gateway)/[a-z_0-9]+)` \| ([—0-9]+) \|(.*)$", re.M)
MAX_LINES = 700


def modules(folder):
    """A module is a .c (with its .h), or a header with no .c."""
    path = REPO / folder
    names = {p.stem for p in path.glob("*.c")} | {p.stem for p in path.glob("*.h")}
    return {f"{folder}/{n}" for n in names}


def rows(text):
    return {m.group(1): (m.group(2), m.group(3)) for m in ROW.finditer(text)}


def architecture_section(folder):
    text = (REPO / "docs" / "architecture.md").read_text()
    return text.split("\n## Module map\n", 1)[1].split(f"\n### {folder}/\n", 1)[1].split("\n### ", 1)[0]


def lines_of(module):
    c = REPO / f"{module}.c"
    return sum(1 for _ in c.open()) if c.exists() else None


def same_links(description):
    """The folder READMEs link ../docs/x.md where docs/architecture.md links x.md."""
    return re.sub(r"\]\(\.\./docs/", "](", description)


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_module_has_a_row_in_both_maps(folder):
    arch = rows(architecture_section(folder))
    readme = rows((REPO / folder / "README.md").read_text())
    have = modules(folder)
    assert sorted(have - set(arch)) == [], "modules with no row in docs/architecture.md"
    assert sorted(have - set(readme)) == [], f"modules with no row in {folder}/README.md"
    assert sorted(set(arch) - have) == [], "rows of docs/architecture.md naming no module"
    assert sorted(set(readme) - have) == [], f"rows of {folder}/README.md naming no module"


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_folder_readme_repeats_the_architecture_rows(folder):
    arch = rows(architecture_section(folder))
    readme = rows((REPO / folder / "README.md").read_text())
    differ = [m for m in arch if m in readme
              and (arch[m][0], arch[m][1]) != (readme[m][0], same_links(readme[m][1]))]
    assert differ == [], f"rows that differ between docs/architecture.md and {folder}/README.md"


@pytest.mark.parametrize("folder", FOLDERS)
def test_line_counts_are_near_the_files(folder):
    """Within a tenth or 15 lines, whichever is more: an edit need not touch the map, rot shows."""
    stale = []
    for module, (count, _) in rows(architecture_section(folder)).items():
        real = lines_of(module)
        if real is None:
            if count != "—":
                stale.append((module, count, "header only: —"))
        elif count == "—" or abs(int(count) - real) > max(15, real // 10):
            stale.append((module, count, real))
    assert stale == [], "(module, the map's count, the file's)"


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_c_file_is_over_the_limit(folder):
    over = [(p.name, n) for p in sorted((REPO / folder).glob("*.c"))
            if (n := sum(1 for _ in p.open())) > MAX_LINES]
    assert over == []
