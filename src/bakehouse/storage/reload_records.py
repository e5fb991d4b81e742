"""The records of a location's reload history: what each reload changed in its definitions, or
why it failed, who or what asked for it, and how heavy the load was.

Written by the host (`host.definitions_diff` computes the diff), kept in `location_reloads`.
"""

from __future__ import annotations

from bakehouse.errors import ErrorInfo
from bakehouse.protocol.snapshot import ModuleErrorSnap
from bakehouse.serdes import Record

# What asked for a reload (`ReloadRecord.trigger`), with the words the UI and CLI show.
TRIGGERS: dict[str, str] = {
    "startup": "Startup",
    "file_change": "File change",
    "reload": "Reload button",
    "reload_all": "Reload all",
    "api": "API",
    "restart": "Restart after exit",
}

# The kinds of definitions a diff compares, in the order summaries name them, with the
# singular and plural a summary spells.
KINDS: dict[str, tuple[str, str]] = {
    "asset": ("asset", "assets"),
    "check": ("check", "checks"),
    "job": ("job", "jobs"),
    "schedule": ("schedule", "schedules"),
    "sensor": ("sensor", "sensors"),
    "resource": ("resource", "resources"),
}


class FieldChange(Record, frozen=True, kw_only=True):
    """One field of a definition that differs between two loads, with both values as short text
    (None: the field was unset); list-valued fields also say what entered and left."""

    field: str
    before: str | None = None
    after: str | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


class DefinitionChange(Record, frozen=True, kw_only=True):
    """A definition added, removed or changed by a reload: its kind (a key of `KINDS`), its name
    (an asset key, ``asset/key:check`` for a check) and, when changed, the fields that differ."""

    kind: str
    name: str
    fields: tuple[FieldChange, ...] = ()


class DefinitionsDiff(Record, frozen=True, kw_only=True):
    """What one load of a location defines that the load before did not, and the reverse."""

    added: tuple[DefinitionChange, ...] = ()
    removed: tuple[DefinitionChange, ...] = ()
    changed: tuple[DefinitionChange, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when both loads define the same things the same way."""
        return not (self.added or self.removed or self.changed)

    def summary(self) -> str:
        """One line, as a toast and the location's row show it: "+2 assets, \u22121 schedule,
        3 changed" (a minus sign, not a hyphen) ("no changes" when empty)."""
        parts = [f"+{n} {_noun(kind, n)}" for kind, n in _counts(self.added)]
        parts += [f"\u2212{n} {_noun(kind, n)}" for kind, n in _counts(self.removed)]
        if self.changed:
            parts.append(f"{len(self.changed)} changed")
        return ", ".join(parts) or "no changes"


def _counts(changes: tuple[DefinitionChange, ...]) -> list[tuple[str, int]]:
    return [(k, n) for k in KINDS if (n := sum(1 for c in changes if c.kind == k))]


def _noun(kind: str, count: int) -> str:
    singular, plural = KINDS.get(kind, (kind, kind + "s"))
    return singular if count == 1 else plural


class ReloadRecord(Record, frozen=True, kw_only=True):
    """One reload of one location: when, why, by whom, and what it gave."""

    location: str
    started_at: float
    # A key of `TRIGGERS`, and who asked: a token's name, "local" (no auth), None for reloads
    # bakehouse started itself (startup, a file change, a restart).
    trigger: str
    actor: str | None = None
    # For a restart: how the server before it ended ("SIGKILL", "exit code 1").
    reason: str | None = None
    # True when the new definitions serve; False when the load failed (`error` says why) and
    # the last good ones, if any, keep serving.
    loaded: bool = True
    # Against the definitions serving before; None when nothing served before or it failed.
    diff: DefinitionsDiff | None = None
    error: ErrorInfo | None = None
    # Loaded with errors: the defs modules left out because they failed (their definitions are
    # in `diff` as removed).
    module_errors: tuple[ModuleErrorSnap, ...] = ()
    # The code server's own import-and-describe time, and the whole reload's wall time
    # (process start included).
    load_seconds: float | None = None
    wall_seconds: float | None = None
    # The new code server's resident memory right after loading, and its peak so far.
    rss_bytes: int | None = None
    peak_rss_bytes: int | None = None
    # The definitions digest (`LocationState.version`) after the reload, when it loaded.
    version: str | None = None
    # Set by storage when read back: the row's id, the cursor that pages the history.
    storage_id: int | None = None

    @property
    def trigger_label(self) -> str:
        """The trigger in words ("Reload button")."""
        return TRIGGERS.get(self.trigger, self.trigger)
