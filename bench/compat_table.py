"""Write docs/dagster-compatibility.md: the Dagster names course code uses, and what runs.

    .venv/bin/python bench/compat_table.py            # print the table
    .venv/bin/python bench/compat_table.py --write    # rewrite docs/dagster-compatibility.md

Dagster is imported only in the bench venv (bench/.venv-dagster, made as bench/run.py makes it,
plus dagster-duckdb and dagster-dbt); bakehouse in the repo's .venv. Inputs:
- bench/compat/course_usage.json: the Dagster names each course or tutorial file uses, with the
  repository, path and commit it was read from;
- bench/compat/snippets/*.py: small course-style programs written against `import dagster as
  dg`, each run under Dagster (it must pass there) and, rewritten by `bh migrate-from-dagster`'s
  own rewriter, under bakehouse. Their header names the kind of code and the names it stands for.
Re-run it whenever bakehouse gains names: nothing in the output is written by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
COMPAT = BENCH / "compat"
DOC = REPO / "docs" / "dagster-compatibility.md"
BAKEHOUSE_PYTHON = REPO / ".venv" / "bin" / "python"

sys.path.insert(0, str(BENCH))
import run as bench_run  # noqa: E402  (bench/run.py: the venv it makes for Dagster)

from bakehouse.migrate.modules import ModuleRenamer  # noqa: E402
from bakehouse.migrate.python_source import rewrite_module  # noqa: E402
from bakehouse.migrate.resolve import missing_names  # noqa: E402

RENAMER = ModuleRenamer()


@dataclass(frozen=True)
class Snippet:
    """One course-style program: what kind of code it is, which names it stands for."""

    path: Path
    kind: str
    uses: tuple[str, ...]
    needs: tuple[str, ...] = ()  # integration modules Dagster needs to run it


NOT_RUN = "not run: "


@dataclass(frozen=True)
class Outcome:
    """How a snippet ran: None when it passed, else the error's last line (or why it was not
    run: an integration the bench venv does not install)."""

    dagster: str | None
    bakehouse: str | None


# Integrations added to the bench venv: module -> what pip installs for it. dbt-core 1.12 builds
# a parser it downloads from outside the package index, so dbt stays below it.
ADDED = {
    "dagster_duckdb": ["dagster-duckdb"],
    "dagster_dbt": ["dagster-dbt", "dbt-duckdb", "dbt-core<1.12"],
}
ADDED_TEXT = "only dagster-duckdb and dagster-dbt are added"


def dagster_python(base_python: str) -> str:
    """The bench venv's interpreter, created as bench/run.py does, with the integrations of
    `ADDED` installed."""
    venv = bench_run.VENVS["dagster"]
    error = bench_run.ensure_venv(venv, base_python, force=False)
    if error:
        sys.exit(f"compat_table: cannot make {venv.path}: {error}")
    python = str(venv.python)
    for module, packages in ADDED.items():
        present = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
        if present.returncode != 0:
            subprocess.run(
                [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *packages],
                check=True,
            )
    return python


def dagster_public_names(python: str) -> tuple[str, list[str]]:
    """Dagster's version and its public names, read in the bench venv.

    Dagster 1.13 defines no ``__all__``; its public names are what ``dir(dagster)`` lists
    without a leading underscore.
    """
    probe = (
        "import dagster, json\n"
        "names = getattr(dagster, '__all__', None) or "
        "[n for n in dir(dagster) if not n.startswith('_')]\n"
        "print(json.dumps([dagster.__version__, sorted(names)]))"
    )
    out = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)
    version, names = json.loads(out.stdout.strip().splitlines()[-1])
    return version, names


def bakehouse_name(dagster_name: str) -> str:
    """``dagster.X`` -> ``bakehouse.X``, ``dagster_duckdb.X`` -> ``bakehouse_duckdb.X``."""
    return RENAMER.rename(dagster_name) or dagster_name


def read_snippets() -> list[Snippet]:
    """Every program with its header: ``# kind: ...`` and ``# uses: ...``, each of which may go
    on in comment lines indented by three spaces."""
    snippets = []
    for path in sorted((COMPAT / "snippets").glob("*.py")):
        header: dict[str, str] = {}
        key = ""
        for line in path.read_text().splitlines():
            if not line.startswith("#"):
                break
            if line.startswith("#   ") and key:
                header[key] += " " + line[4:].strip()
            elif ": " in line:
                key, _, value = line[2:].partition(": ")
                header[key] = value.strip()
        uses = tuple(name.strip() for name in header["uses"].split(","))
        needs = tuple(n.strip() for n in header.get("needs", "").split(",") if n.strip())
        snippets.append(Snippet(path=path, kind=header["kind"], uses=uses, needs=needs))
    return snippets


def _last_error_line(stderr: str, folder: str) -> str:
    # Python 3.11 marks the failing expression with a line of carets: not an error line.
    lines = [line.strip() for line in stderr.splitlines() if line.strip(" ^~")]
    error = lines[-1] if lines else "no output"
    if ":" not in error and len(lines) > 1:
        error = f"{error} at: {lines[-2]}"  # a bare AssertionError: show the assert
    return error.replace(folder, "<snippet folder>")


def run_snippet(snippet: Snippet, python: str, source: str) -> str | None:
    """Run `source` as the snippet's file in a fresh folder; None when it exits 0."""
    folder = tempfile.mkdtemp(prefix="compat-")
    try:
        script = Path(folder) / snippet.path.name
        script.write_text(source)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BAKEHOUSE_", "DAGSTER_"))}
        env["PYTHONWARNINGS"] = "ignore"
        done = subprocess.run(
            [python, str(script)],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return None if done.returncode == 0 else _last_error_line(done.stderr, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _importable(python: str, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def run_snippets(snippets: list[Snippet], dagster: str) -> dict[Path, Outcome]:
    outcomes = {}
    for snippet in snippets:
        source = snippet.path.read_text()
        migrated = rewrite_module(source, RENAMER).text
        absent = [module for module in snippet.needs if not _importable(dagster, module)]
        outcomes[snippet.path] = Outcome(
            dagster=f"{NOT_RUN}needs {', '.join(absent)}, not in the bench venv"
            if absent
            else run_snippet(snippet, dagster, source),
            bakehouse=run_snippet(snippet, str(BAKEHOUSE_PYTHON), migrated),
        )
        print(f"  {snippet.path.name}: {outcomes[snippet.path]}", file=sys.stderr)
    return outcomes


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(
    version: str,
    public: list[str],
    usage: dict[str, object],
    snippets: list[Snippet],
    outcomes: dict[Path, Outcome],
    bakehouse_missing: dict[str, str],
    dagster_missing: dict[str, str],
    bakehouse_missing_public: dict[str, str],
) -> str:
    sources: list[dict[str, object]] = usage["sources"]  # type: ignore[assignment]
    used_by: dict[str, int] = {}
    for source in sources:
        for name in source["names"]:  # type: ignore[attr-defined]
            used_by[name] = used_by.get(name, 0) + 1
    names = sorted(used_by, key=lambda n: (-used_by[n], n))
    has = [n for n in names if bakehouse_name(n) not in bakehouse_missing]
    public_has = len(public) - len(bakehouse_missing_public)

    def lacking(snippet: Snippet) -> list[str]:
        return [n for n in snippet.uses if bakehouse_name(n) in bakehouse_missing]

    def weight(snippet: Snippet) -> int:
        # Files using a name bakehouse lacks; for a behaviour gap (every name exists), files
        # using the construct the program is about, the first name it lists.
        wanted = set(lacking(snippet)) or {snippet.uses[0]}
        return sum(1 for s in sources if wanted & set(s["names"]))  # type: ignore[call-overload]

    failing = [s for s in snippets if outcomes[s.path].bakehouse is not None]
    dagster_ran = sum(1 for s in snippets if outcomes[s.path].dagster is None)
    dagster_failed = sum(
        1
        for s in snippets
        if (result := outcomes[s.path].dagster) is not None and not result.startswith(NOT_RUN)
    )
    failing.sort(key=lambda s: (-weight(s), s.path.name))
    rev = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    out = [
        "# Dagster compatibility",
        "",
        "Generated by `bench/compat_table.py` (do not edit by hand; re-run it: "
        "`.venv/bin/python bench/compat_table.py --write`) on "
        f"{dt.date.today().isoformat()}, from Dagster {version} in the bench venv and bakehouse "
        f"at `{rev}`.",
        "",
        "`bh migrate-from-dagster [PATH]` makes the rename in a project (imports, settings, "
        "dependencies, README commands) and lists, with `file:line`, every name it uses that "
        "bakehouse lacks. What follows says how far course code gets after that rename.",
        "",
        f"- Course and tutorial code uses **{len(names)} Dagster names**; bakehouse has "
        f"**{len(has)}** of them. The names come from {len(sources)} files of the Dagster "
        "University courses (Essentials, Testing, ETL, dbt), Dagster's ETL tutorial and its "
        "ops/jobs docs examples, listed with repository, path and commit in "
        "[`bench/compat/course_usage.json`](../bench/compat/course_usage.json).",
        f"- Of all {len(public)} public names of `dagster` (`dir(dagster)` without `_` "
        f"names), bakehouse has {public_has}.",
        f"- {len(snippets) - len(failing)} of {len(snippets)} course-style programs "
        "([`bench/compat/snippets/`](../bench/compat/snippets/)) run under bakehouse after "
        f"`bh migrate-from-dagster`'s rewrite. Under Dagster {version}, {dagster_ran} run and "
        f"pass, {dagster_failed} fail, and {len(snippets) - dagster_ran - dagster_failed} need "
        f"an integration the bench venv does not install ({ADDED_TEXT}).",
        "",
        "## The three most common kinds of Dagster code that still do not run",
        "",
        "Each is a course-style program that fails under bakehouse, ranked by how many of the "
        "course and tutorial files use the names it needs that bakehouse lacks (or, when "
        "bakehouse has them all, the construct it is about: the first name in its `# uses:` "
        "header).",
        "",
    ]
    if not failing:
        out.append("Every course-style program runs.")
    for index, snippet in enumerate(failing[:3], start=1):
        out += [
            f"{index}. **{snippet.kind}** ("
            + ", ".join(f"`{name}`" for name in (lacking(snippet) or snippet.uses[:1]))
            + f": used in {weight(snippet)} of {len(sources)} files; [`{snippet.path.name}`]"
            f"(../bench/compat/snippets/{snippet.path.name})). "
            "Under bakehouse it fails with:",
            "",
            f"   ``{outcomes[snippet.path].bakehouse}``",
            "",
        ]
    out += [
        "",
        "## Course-style programs",
        "",
        f"| program | kind of code | Dagster {version} | bakehouse |",
        "|---|---|---|---|",
    ]
    for snippet in snippets:
        outcome = outcomes[snippet.path]
        shown = [
            "runs"
            if result is None
            else _cell(result)
            if result.startswith(NOT_RUN)
            else f"fails: ``{_cell(result)}``"
            for result in (outcome.dagster, outcome.bakehouse)
        ]
        out.append(f"| `{snippet.path.name}` | {_cell(snippet.kind)} | {shown[0]} | {shown[1]} |")
    out += [
        "",
        "## Names course and tutorial code uses",
        "",
        f"| Dagster name | files using it | in Dagster {version} | bakehouse |",
        "|---|---|---|---|",
    ]
    for name in names:
        theirs = "yes" if name not in dagster_missing else f"no ({dagster_missing[name]})"
        top = name.partition(".")[0]
        if dagster_missing.get(name) == f"no module {top}" and top != "dagster":
            # An integration the bench venv does not install (see ADDED).
            theirs = f"integration `{top.replace('_', '-')}`, not in the bench venv"
        ours_missing = bakehouse_missing.get(bakehouse_name(name))
        ours = "yes" if ours_missing is None else f"**no**: {_cell(ours_missing)}"
        out.append(f"| `{name}` | {used_by[name]} | {theirs} | {ours} |")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {DOC.relative_to(REPO)}")
    parser.add_argument(
        "--python",
        default=shutil.which("python3") or sys.executable,
        help="interpreter the bench venv is created with, as bench/run.py's --python",
    )
    args = parser.parse_args()
    dagster = dagster_python(args.python)
    version, public = dagster_public_names(dagster)
    usage = json.loads((COMPAT / "course_usage.json").read_text())
    used = sorted({n for s in usage["sources"] for n in s["names"]})
    snippets = read_snippets()
    for snippet in snippets:
        unknown = [name for name in snippet.uses if name not in used]
        if unknown:
            sys.exit(f"compat_table: {snippet.path.name} uses names no course file uses: {unknown}")
    print(f"checking {len(used)} used names and {len(public)} public names", file=sys.stderr)
    dagster_missing = missing_names(used, dagster)
    bakehouse = str(BAKEHOUSE_PYTHON)
    bakehouse_missing = missing_names([bakehouse_name(n) for n in used], bakehouse)
    bakehouse_missing_public = missing_names([f"bakehouse.{n}" for n in public], bakehouse)
    print(f"running {len(snippets)} programs under Dagster and bakehouse", file=sys.stderr)
    outcomes = run_snippets(snippets, dagster)
    text = render(
        version,
        public,
        usage,
        snippets,
        outcomes,
        bakehouse_missing,
        dagster_missing,
        bakehouse_missing_public,
    )
    if args.write:
        DOC.write_text(text)
        print(f"wrote {DOC}", file=sys.stderr)
    else:
        print(text)


if __name__ == "__main__":
    main()
