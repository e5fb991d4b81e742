"""What ``bh create project`` shows while an installer works: its stages, and on a terminal a
live line with the installer's latest output and the time spent."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

# Installer lines that say little on their own: downloads of each file, one line per package
# installed (uv's "+ name==version"), how to activate the venv.
_DETAIL_PREFIXES = ("Requirement already satisfied", "Activate with", "+ ", "- ")


def is_headline(line: str) -> bool:
    """Whether an installer's `line` marks a stage (collecting a package, resolving,
    installing) rather than a detail of one (a download, an indented line)."""
    return not line[:1].isspace() and not line.startswith(_DETAIL_PREFIXES)


class InstallProgress:
    """A context manager: `stage` prints a step, `line` takes each line an installer prints
    (its headlines are printed, dimmed; on a terminal the latest line of any kind shows live
    under them with a spinner and the elapsed time)."""

    def __init__(self, out: Console) -> None:
        self.out = out
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> InstallProgress:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        if self.out.is_terminal:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                TimeElapsedColumn(),
                console=self.out,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("starting", total=None)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def stage(self, text: str) -> None:
        """Print one step of the work (`text` is plain, not markup)."""
        self.out.print(f"  {text}", markup=False, highlight=False)

    def line(self, text: str) -> None:
        """One line an installer printed."""
        if is_headline(text):
            self.out.print(f"    {text}", style="dim", markup=False, highlight=False)
        if self._progress is not None and self._task is not None:
            width = max(self.out.width - 24, 20)
            shown = text.strip()
            shown = shown if len(shown) <= width else shown[: width - 1] + "…"
            self._progress.update(self._task, description=shown)
