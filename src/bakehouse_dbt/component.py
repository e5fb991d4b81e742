"""`DbtProjectComponent`: a dbt project wired from ``defs.yaml`` (Dagster's component name).

```yaml
type: bakehouse_dbt.DbtProjectComponent
attributes:
  project: "{{ project_root }}/jaffle_dbt"
  select: "tag:daily"
  translation:
    key: "warehouse/{{ node.name }}"
    group_name: "{{ node.fqn[1] }}"
```
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from bakehouse.components.component import Component, ComponentLoadContext, Model, Resolvable
from bakehouse.graph.keys import AssetKey
from bakehouse_dbt.translator import DagsterDbtTranslator

if TYPE_CHECKING:
    from bakehouse.authoring.definitions_class import Definitions


class DbtTranslation(BaseModel):
    """Per-node templates (Jinja, with the dbt node's properties as ``node``)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    key: str | None = Field(
        default=None, description="The asset key, parts joined by '/', e.g. 'dbt/{{ node.name }}'."
    )
    key_prefix: list[str] = Field(
        default_factory=list, description="Parts put before every key, e.g. [warehouse]."
    )
    group_name: str | None = Field(
        default=None, description="The group, e.g. '{{ node.fqn[1] }}' (the model's folder)."
    )
    description: str | None = Field(
        default=None, description="The description, e.g. '{{ node.name }}'."
    )


class _TemplateTranslator(DagsterDbtTranslator):
    """The default translation with the templates of `DbtTranslation` applied on top."""

    def __init__(self, translation: DbtTranslation) -> None:
        super().__init__()
        from jinja2 import Environment, StrictUndefined

        self._translation = translation
        self._env = Environment(undefined=StrictUndefined, autoescape=False)

    def _render(self, template: str, props: Mapping[str, Any]) -> str:
        return self._env.from_string(template).render(node=props).strip()

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        base = (
            AssetKey.from_user_string(self._render(self._translation.key, dbt_resource_props))
            if self._translation.key
            else super().get_asset_key(dbt_resource_props)
        )
        prefix = tuple(self._translation.key_prefix)
        return base.with_prefix(prefix) if prefix else base

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if self._translation.group_name:
            return self._render(self._translation.group_name, dbt_resource_props) or None
        return super().get_group_name(dbt_resource_props)

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        if self._translation.description:
            return self._render(self._translation.description, dbt_resource_props)
        return super().get_description(dbt_resource_props)


class DbtProjectComponent(Component, Model, Resolvable):
    """The models, seeds and snapshots of a dbt project as assets, its tests as checks.

    The manifest is parsed (`dbt parse`) when the location loads and it is missing or older
    than the project's files; a run executes `dbt build` (or `cli_args`) for what it selected.
    """

    project: str = Field(
        description="The dbt project's folder (holding dbt_project.yml), relative to this "
        "defs.yaml's folder, e.g. '{{ project_root }}/dbt'."
    )
    select: str = Field(
        default="fqn:*", description="dbt selection of the nodes to load as assets."
    )
    exclude: str | None = Field(default=None, description="dbt selection of nodes to leave out.")
    cli_args: list[str] = Field(
        default_factory=lambda: ["build"], description="The dbt command a run executes."
    )
    profiles_dir: str | None = Field(
        default=None, description="Folder of profiles.yml; default: the dbt project's folder."
    )
    target: str | None = Field(default=None, description="The profile's target to use.")
    prepare_if_dev: bool = Field(
        default=True, description="Run `dbt parse` at load when the manifest is missing or stale."
    )
    name: str | None = Field(
        default=None,
        description="Name of the step; default: the dbt project's name with '_assets'.",
    )
    translation: DbtTranslation | None = Field(
        default=None, description="How each dbt node becomes an asset (templates on `node`)."
    )

    @classmethod
    def get_scaffold_attributes(cls) -> dict[str, Any]:
        return {"project": "{{ project_root }}/dbt", "select": "fqn:*"}

    def build_defs(self, context: ComponentLoadContext) -> Definitions:
        from bakehouse.authoring.context import AssetExecutionContext
        from bakehouse.authoring.definitions_class import Definitions
        from bakehouse.components.component import located
        from bakehouse.errors import DefinitionError, SourceLocation
        from bakehouse_dbt.asset_decorator import dbt_assets
        from bakehouse_dbt.project import DbtProject
        from bakehouse_dbt.resource import DbtCliResource

        folder = context.resolve_path(self.project)
        if not (folder / "dbt_project.yml").is_file():
            raise context.error(f"{folder} holds no dbt_project.yml", "project")
        profiles = str(context.resolve_path(self.profiles_dir)) if self.profiles_dir else None
        project = DbtProject(folder, profiles_dir=profiles, target=self.target)
        if self.prepare_if_dev:
            try:
                project.prepare_if_dev()
            except DefinitionError as exc:
                raise context.error(exc.detail, "project") from None
        translator = _TemplateTranslator(self.translation) if self.translation else None
        resource = DbtCliResource(project_dir=project, profiles_dir=profiles, target=self.target)
        cli_args = list(self.cli_args)
        step_name = self.name or f"{_identifier(project.name)}_assets"

        def run_dbt(context: AssetExecutionContext) -> Iterator[Any]:
            yield from resource.cli(cli_args, context=context).stream()

        run_dbt.__name__ = step_name
        try:
            assets_def = dbt_assets(
                manifest=project.manifest_path,
                select=self.select,
                exclude=self.exclude,
                name=step_name,
                dagster_dbt_translator=translator,
                project=project,
            )(run_dbt)
        except DefinitionError as exc:
            raise context.error(exc.detail, "select") from None
        source = context.defs_yaml or folder / "dbt_project.yml"
        located_def = located(assets_def, SourceLocation(str(source), 1))
        # `located` copies the definition; the copy keeps what runs need to map dbt's events.
        from bakehouse_dbt.asset_decorator import INFO_ATTRIBUTE

        setattr(located_def, INFO_ATTRIBUTE, getattr(assets_def, INFO_ATTRIBUTE))
        return Definitions(assets=[located_def])


def _identifier(name: str) -> str:
    import re

    cleaned = re.sub(r"\W", "_", name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"dbt_{cleaned}"
