"""bakehouse: a data orchestrator. ``import bakehouse as dg`` gives the authoring API.

Names resolve lazily on first use, so ``import bakehouse`` is cheap and has no side effects;
the CLI and host processes import it without paying for pydantic or the execution engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> module that defines it.
_PUBLIC_API: dict[str, str] = {
    # assets
    "asset": "bakehouse.authoring.assets",
    "multi_asset": "bakehouse.authoring.assets",
    "AssetIn": "bakehouse.authoring.assets",
    "AssetOut": "bakehouse.authoring.assets",
    "AssetDep": "bakehouse.authoring.assets",
    "AssetSpec": "bakehouse.authoring.assets",
    "AssetsDefinition": "bakehouse.authoring.assets",
    "AssetKey": "bakehouse.graph.keys",
    "AssetSelection": "bakehouse.authoring.asset_selection",
    # asset checks
    "asset_check": "bakehouse.authoring.asset_checks",
    "multi_asset_check": "bakehouse.authoring.asset_checks",
    "AssetChecksDefinition": "bakehouse.authoring.asset_checks",
    "AssetCheckExecutionContext": "bakehouse.authoring.asset_checks",
    "AssetCheckKey": "bakehouse.authoring.check_spec",
    "AssetCheckSpec": "bakehouse.authoring.check_spec",
    "AssetCheckResult": "bakehouse.authoring.results",
    "AssetCheckSeverity": "bakehouse.authoring.results",
    # definitions and loading
    "Definitions": "bakehouse.authoring.definitions_class",
    "definitions": "bakehouse.authoring.loading",
    "load_defs": "bakehouse.authoring.loading",
    "load_from_defs_folder": "bakehouse.authoring.loading",
    "load_assets_from_modules": "bakehouse.authoring.module_loading",
    "load_assets_from_package_module": "bakehouse.authoring.module_loading",
    "load_assets_from_current_module": "bakehouse.authoring.module_loading",
    "load_asset_checks_from_modules": "bakehouse.authoring.module_loading",
    "load_asset_checks_from_package_module": "bakehouse.authoring.module_loading",
    "load_asset_checks_from_current_module": "bakehouse.authoring.module_loading",
    "file_relative_path": "bakehouse.authoring.module_loading",
    # results and metadata
    "MaterializeResult": "bakehouse.authoring.results",
    "Output": "bakehouse.authoring.results",
    "MetadataValue": "bakehouse.authoring.metadata",
    "TableColumn": "bakehouse.authoring.metadata",
    "TableRecord": "bakehouse.authoring.metadata",
    "TableSchema": "bakehouse.authoring.metadata",
    # config and resources
    "Config": "bakehouse.authoring.config",
    "RunConfig": "bakehouse.authoring.config",
    "ConfigurableResource": "bakehouse.authoring.resources",
    "ResourceParam": "bakehouse.authoring.resources",
    "EnvVar": "bakehouse.authoring.resources",
    # jobs and executors
    "define_asset_job": "bakehouse.authoring.jobs",
    "in_process_executor": "bakehouse.authoring.executors",
    "multiprocess_executor": "bakehouse.authoring.executors",
    "ExecutorDefinition": "bakehouse.authoring.executors",
    # schedules and sensors
    "ScheduleDefinition": "bakehouse.authoring.schedules",
    "schedule": "bakehouse.authoring.schedules",
    "ScheduleEvaluationContext": "bakehouse.authoring.schedules",
    "build_schedule_context": "bakehouse.authoring.schedules",
    "build_schedule_from_partitioned_job": "bakehouse.authoring.partitioned_schedules",
    "SensorDefinition": "bakehouse.authoring.sensors",
    "sensor": "bakehouse.authoring.sensors",
    "asset_sensor": "bakehouse.authoring.sensors",
    "run_status_sensor": "bakehouse.authoring.sensors",
    "run_failure_sensor": "bakehouse.authoring.sensors",
    "SensorEvaluationContext": "bakehouse.authoring.sensors",
    "RunStatusSensorContext": "bakehouse.authoring.sensors",
    "RunFailureSensorContext": "bakehouse.authoring.sensors",
    "DagsterRunStatus": "bakehouse.authoring.sensors",
    "EventLogEntry": "bakehouse.authoring.sensors",
    "build_sensor_context": "bakehouse.authoring.sensors",
    "RunRequest": "bakehouse.authoring.run_request",
    "SkipReason": "bakehouse.authoring.run_request",
    "SensorResult": "bakehouse.authoring.run_request",
    "AddDynamicPartitionsRequest": "bakehouse.authoring.run_request",
    "DeleteDynamicPartitionsRequest": "bakehouse.authoring.run_request",
    "DefaultScheduleStatus": "bakehouse.authoring.run_request",
    "DefaultSensorStatus": "bakehouse.authoring.run_request",
    # execution
    "AssetExecutionContext": "bakehouse.authoring.context",
    "OpExecutionContext": "bakehouse.authoring.context",
    "InitResourceContext": "bakehouse.authoring.context",
    "build_asset_context": "bakehouse.authoring.context",
    "IOManager": "bakehouse.execution.io_managers",
    "InputContext": "bakehouse.execution.io_managers",
    "OutputContext": "bakehouse.execution.io_managers",
    "FilesystemIOManager": "bakehouse.execution.fs_io_manager",
    "UPathIOManager": "bakehouse.execution.upath_io_manager",
    "InMemoryIOManager": "bakehouse.execution.io_managers",
    "ConfigurableIOManager": "bakehouse.execution.configurable_io_manager",
    "ConfigurableIOManagerFactory": "bakehouse.execution.configurable_io_manager",
    "materialize": "bakehouse.execution.materialize",
    "materialize_to_memory": "bakehouse.execution.materialize",
    "ExecuteInProcessResult": "bakehouse.execution.materialize",
    # components
    "Component": "bakehouse.components.component",
    "ComponentLoadContext": "bakehouse.components.component",
    "Model": "bakehouse.components.component",
    "Resolvable": "bakehouse.components.component",
    "SqlFolderComponent": "bakehouse.components.sql_folder",
    "ScriptComponent": "bakehouse.components.script",
    # partitions
    "PartitionsDefinition": "bakehouse.authoring.partitions",
    "StaticPartitionsDefinition": "bakehouse.authoring.partitions",
    "MultiPartitionsDefinition": "bakehouse.authoring.partitions",
    "MultiPartitionKey": "bakehouse.authoring.partitions",
    "DynamicPartitionsDefinition": "bakehouse.authoring.partitions",
    "PartitionKeyRange": "bakehouse.authoring.partitions",
    "BackfillPolicy": "bakehouse.authoring.backfill_policy",
    # step retries
    "RetryPolicy": "bakehouse.authoring.retries",
    "Backoff": "bakehouse.authoring.retries",
    "Jitter": "bakehouse.authoring.retries",
    "RetryRequested": "bakehouse.authoring.retries",
    "Failure": "bakehouse.authoring.retries",
    # declarative automation
    "AutomationCondition": "bakehouse.authoring.automation_condition",
    "AutomationConditionSensorDefinition": "bakehouse.authoring.automation_sensor",
    # freshness
    "FreshnessPolicy": "bakehouse.authoring.freshness",
    "build_last_update_freshness_checks": "bakehouse.authoring.freshness_checks",
    "build_sensor_for_freshness_checks": "bakehouse.authoring.freshness_checks",
    "TimeWindow": "bakehouse.authoring.time_window_partitions",
    "TimeWindowPartitionsDefinition": "bakehouse.authoring.time_window_partitions",
    "HourlyPartitionsDefinition": "bakehouse.authoring.time_window_partitions",
    "DailyPartitionsDefinition": "bakehouse.authoring.time_window_partitions",
    "WeeklyPartitionsDefinition": "bakehouse.authoring.time_window_partitions",
    "MonthlyPartitionsDefinition": "bakehouse.authoring.time_window_partitions",
    "PartitionMapping": "bakehouse.authoring.partition_mappings",
    "IdentityPartitionMapping": "bakehouse.authoring.partition_mappings",
    "AllPartitionMapping": "bakehouse.authoring.partition_mappings",
    "LastPartitionMapping": "bakehouse.authoring.partition_mappings",
    "SpecificPartitionsPartitionMapping": "bakehouse.authoring.partition_mappings",
    "StaticPartitionMapping": "bakehouse.authoring.partition_mappings",
    "TimeWindowPartitionMapping": "bakehouse.authoring.partition_mappings",
    "MultiToSingleDimensionPartitionMapping": "bakehouse.authoring.partition_mappings",
    # instance (Dagster's DagsterInstance and the record queries course code makes)
    "DagsterInstance": "bakehouse.execution.instance",
    "DagsterEventType": "bakehouse.execution.instance",
    "RunsFilter": "bakehouse.execution.instance",
    "EventRecordsFilter": "bakehouse.execution.instance",
    "AssetRecordsFilter": "bakehouse.execution.instance",
    "EventLogRecord": "bakehouse.execution.instance",
    # function-style resources, hooks and contexts for tests
    "ResourceDefinition": "bakehouse.authoring.resource_definition",
    "IOManagerDefinition": "bakehouse.authoring.resource_definition",
    "resource": "bakehouse.authoring.resource_definition",
    "io_manager": "bakehouse.authoring.resource_definition",
    "HookDefinition": "bakehouse.authoring.hooks",
    "HookContext": "bakehouse.authoring.hooks",
    "success_hook": "bakehouse.authoring.hooks",
    "failure_hook": "bakehouse.authoring.hooks",
    "build_hook_context": "bakehouse.authoring.hooks",
    "build_init_resource_context": "bakehouse.authoring.build_contexts",
    "build_op_context": "bakehouse.authoring.build_contexts",
    "build_asset_check_context": "bakehouse.authoring.build_contexts",
    "build_resources": "bakehouse.execution.resource_setup",
    # ops, graphs and jobs of ops
    "op": "bakehouse.authoring.ops",
    "In": "bakehouse.authoring.ops",
    "Out": "bakehouse.authoring.ops",
    "Nothing": "bakehouse.authoring.ops",
    "OpDefinition": "bakehouse.authoring.ops",
    "job": "bakehouse.authoring.graphs",
    "GraphDefinition": "bakehouse.authoring.graphs",
    "DependencyDefinition": "bakehouse.authoring.dependencies",
    "MultiDependencyDefinition": "bakehouse.authoring.dependencies",
    "NodeInvocation": "bakehouse.authoring.dependencies",
    "InputMapping": "bakehouse.authoring.dependencies",
    "OutputMapping": "bakehouse.authoring.dependencies",
    "JobDefinition": "bakehouse.authoring.graphs",
    "graph_asset": "bakehouse.authoring.graph_assets",
    "graph_multi_asset": "bakehouse.authoring.graph_assets",
    # errors
    "BakehouseError": "bakehouse.errors",
    "DefinitionError": "bakehouse.errors",
    "UnknownPartitionError": "bakehouse.errors",
    # Dagster's error classes (bakehouse's own errors derive from them) and type checks
    "DagsterError": "bakehouse.errors",
    "DagsterInvalidDefinitionError": "bakehouse.errors",
    "DagsterInvariantViolationError": "bakehouse.errors",
    "DagsterInvalidInvocationError": "bakehouse.errors",
    "DagsterInvalidSubsetError": "bakehouse.errors",
    "DagsterInvalidConfigError": "bakehouse.errors",
    "DagsterTypeCheckDidNotPass": "bakehouse.errors",
    "DagsterUserCodeExecutionError": "bakehouse.errors",
    "DagsterExecutionStepExecutionError": "bakehouse.errors",
    "DagsterResourceFunctionError": "bakehouse.errors",
    "DagsterUnknownResourceError": "bakehouse.errors",
    "DagsterUnknownPartitionError": "bakehouse.errors",
    "DagsterRunNotFoundError": "bakehouse.errors",
    "DagsterCodeLocationLoadError": "bakehouse.errors",
    "DagsterType": "bakehouse.authoring.dagster_types",
    "PythonObjectDagsterType": "bakehouse.authoring.dagster_types",
    "TypeCheck": "bakehouse.authoring.dagster_types",
    "TypeCheckContext": "bakehouse.authoring.dagster_types",
    "check_dagster_type": "bakehouse.authoring.dagster_types",
}

# `graph` is also the `bakehouse.graph` package, made callable as Dagster's @graph decorator.
__all__ = sorted([*_PUBLIC_API, "graph", "__version__"])


# Subpackages reachable as attributes, as in Dagster (`dg.components.load_defs(...)`), imported
# only when first used.
_SUBPACKAGES = {"components"}


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES or name == "graph":
        return importlib.import_module(f"{__name__}.{name}")
    module_name = _PUBLIC_API.get(name)
    if module_name is None:
        raise AttributeError(f"module 'bakehouse' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # resolve once
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    # `X as X`: an explicit re-export, which mypy --strict needs to let users write `dg.X`.
    from bakehouse import (
        components as components,
    )
    from bakehouse.authoring.asset_checks import (
        AssetCheckExecutionContext as AssetCheckExecutionContext,
        AssetChecksDefinition as AssetChecksDefinition,
        asset_check as asset_check,
        multi_asset_check as multi_asset_check,
    )
    from bakehouse.authoring.asset_selection import (
        AssetSelection as AssetSelection,
    )
    from bakehouse.authoring.assets import (
        AssetDep as AssetDep,
        AssetIn as AssetIn,
        AssetOut as AssetOut,
        AssetsDefinition as AssetsDefinition,
        AssetSpec as AssetSpec,
        asset as asset,
        multi_asset as multi_asset,
    )
    from bakehouse.authoring.automation_condition import (
        AutomationCondition as AutomationCondition,
    )
    from bakehouse.authoring.automation_sensor import (
        AutomationConditionSensorDefinition as AutomationConditionSensorDefinition,
    )
    from bakehouse.authoring.backfill_policy import (
        BackfillPolicy as BackfillPolicy,
    )
    from bakehouse.authoring.build_contexts import (
        build_asset_check_context as build_asset_check_context,
        build_init_resource_context as build_init_resource_context,
        build_op_context as build_op_context,
    )
    from bakehouse.authoring.check_spec import (
        AssetCheckKey as AssetCheckKey,
        AssetCheckSpec as AssetCheckSpec,
    )
    from bakehouse.authoring.config import (
        Config as Config,
        RunConfig as RunConfig,
    )
    from bakehouse.authoring.context import (
        AssetExecutionContext as AssetExecutionContext,
        InitResourceContext as InitResourceContext,
        OpExecutionContext as OpExecutionContext,
        build_asset_context as build_asset_context,
    )
    from bakehouse.authoring.dagster_types import (
        DagsterType as DagsterType,
        PythonObjectDagsterType as PythonObjectDagsterType,
        TypeCheck as TypeCheck,
        TypeCheckContext as TypeCheckContext,
        check_dagster_type as check_dagster_type,
    )
    from bakehouse.authoring.definitions_class import (
        Definitions as Definitions,
    )
    from bakehouse.authoring.dependencies import (
        DependencyDefinition as DependencyDefinition,
        InputMapping as InputMapping,
        MultiDependencyDefinition as MultiDependencyDefinition,
        NodeInvocation as NodeInvocation,
        OutputMapping as OutputMapping,
    )
    from bakehouse.authoring.executors import (
        ExecutorDefinition as ExecutorDefinition,
        in_process_executor as in_process_executor,
        multiprocess_executor as multiprocess_executor,
    )
    from bakehouse.authoring.freshness import FreshnessPolicy as FreshnessPolicy
    from bakehouse.authoring.freshness_checks import (
        build_last_update_freshness_checks as build_last_update_freshness_checks,
        build_sensor_for_freshness_checks as build_sensor_for_freshness_checks,
    )
    from bakehouse.authoring.graph_assets import (
        graph_asset as graph_asset,
        graph_multi_asset as graph_multi_asset,
    )
    from bakehouse.authoring.graphs import (
        GraphDefinition as GraphDefinition,
        JobDefinition as JobDefinition,
        graph as graph,
        job as job,
    )
    from bakehouse.authoring.hooks import (
        HookContext as HookContext,
        HookDefinition as HookDefinition,
        build_hook_context as build_hook_context,
        failure_hook as failure_hook,
        success_hook as success_hook,
    )
    from bakehouse.authoring.jobs import (
        define_asset_job as define_asset_job,
    )
    from bakehouse.authoring.loading import (
        definitions as definitions,
        load_defs as load_defs,
        load_from_defs_folder as load_from_defs_folder,
    )
    from bakehouse.authoring.metadata import (
        MetadataValue as MetadataValue,
        TableColumn as TableColumn,
        TableRecord as TableRecord,
        TableSchema as TableSchema,
    )
    from bakehouse.authoring.module_loading import (
        file_relative_path as file_relative_path,
        load_asset_checks_from_current_module as load_asset_checks_from_current_module,
        load_asset_checks_from_modules as load_asset_checks_from_modules,
        load_asset_checks_from_package_module as load_asset_checks_from_package_module,
        load_assets_from_current_module as load_assets_from_current_module,
        load_assets_from_modules as load_assets_from_modules,
        load_assets_from_package_module as load_assets_from_package_module,
    )
    from bakehouse.authoring.ops import (
        In as In,
        Nothing as Nothing,
        OpDefinition as OpDefinition,
        Out as Out,
        op as op,
    )
    from bakehouse.authoring.partition_mappings import (
        AllPartitionMapping as AllPartitionMapping,
        IdentityPartitionMapping as IdentityPartitionMapping,
        LastPartitionMapping as LastPartitionMapping,
        MultiToSingleDimensionPartitionMapping as MultiToSingleDimensionPartitionMapping,
        PartitionMapping as PartitionMapping,
        SpecificPartitionsPartitionMapping as SpecificPartitionsPartitionMapping,
        StaticPartitionMapping as StaticPartitionMapping,
        TimeWindowPartitionMapping as TimeWindowPartitionMapping,
    )
    from bakehouse.authoring.partitioned_schedules import (
        build_schedule_from_partitioned_job as build_schedule_from_partitioned_job,
    )
    from bakehouse.authoring.partitions import (
        DynamicPartitionsDefinition as DynamicPartitionsDefinition,
        MultiPartitionKey as MultiPartitionKey,
        MultiPartitionsDefinition as MultiPartitionsDefinition,
        PartitionKeyRange as PartitionKeyRange,
        PartitionsDefinition as PartitionsDefinition,
        StaticPartitionsDefinition as StaticPartitionsDefinition,
    )
    from bakehouse.authoring.resource_definition import (
        IOManagerDefinition as IOManagerDefinition,
        ResourceDefinition as ResourceDefinition,
        io_manager as io_manager,
        resource as resource,
    )
    from bakehouse.authoring.resources import (
        ConfigurableResource as ConfigurableResource,
        EnvVar as EnvVar,
        ResourceParam as ResourceParam,
    )
    from bakehouse.authoring.results import (
        AssetCheckResult as AssetCheckResult,
        AssetCheckSeverity as AssetCheckSeverity,
        MaterializeResult as MaterializeResult,
        Output as Output,
    )
    from bakehouse.authoring.retries import (
        Backoff as Backoff,
        Failure as Failure,
        Jitter as Jitter,
        RetryPolicy as RetryPolicy,
        RetryRequested as RetryRequested,
    )
    from bakehouse.authoring.run_request import (
        AddDynamicPartitionsRequest as AddDynamicPartitionsRequest,
        DefaultScheduleStatus as DefaultScheduleStatus,
        DefaultSensorStatus as DefaultSensorStatus,
        DeleteDynamicPartitionsRequest as DeleteDynamicPartitionsRequest,
        RunRequest as RunRequest,
        SensorResult as SensorResult,
        SkipReason as SkipReason,
    )
    from bakehouse.authoring.schedules import (
        ScheduleDefinition as ScheduleDefinition,
        ScheduleEvaluationContext as ScheduleEvaluationContext,
        build_schedule_context as build_schedule_context,
        schedule as schedule,
    )
    from bakehouse.authoring.sensors import (
        DagsterRunStatus as DagsterRunStatus,
        EventLogEntry as EventLogEntry,
        RunFailureSensorContext as RunFailureSensorContext,
        RunStatusSensorContext as RunStatusSensorContext,
        SensorDefinition as SensorDefinition,
        SensorEvaluationContext as SensorEvaluationContext,
        asset_sensor as asset_sensor,
        build_sensor_context as build_sensor_context,
        run_failure_sensor as run_failure_sensor,
        run_status_sensor as run_status_sensor,
        sensor as sensor,
    )
    from bakehouse.authoring.time_window_partitions import (
        DailyPartitionsDefinition as DailyPartitionsDefinition,
        HourlyPartitionsDefinition as HourlyPartitionsDefinition,
        MonthlyPartitionsDefinition as MonthlyPartitionsDefinition,
        TimeWindow as TimeWindow,
        TimeWindowPartitionsDefinition as TimeWindowPartitionsDefinition,
        WeeklyPartitionsDefinition as WeeklyPartitionsDefinition,
    )
    from bakehouse.components.component import (
        Component as Component,
        ComponentLoadContext as ComponentLoadContext,
        Model as Model,
        Resolvable as Resolvable,
    )
    from bakehouse.components.script import (
        ScriptComponent as ScriptComponent,
    )
    from bakehouse.components.sql_folder import (
        SqlFolderComponent as SqlFolderComponent,
    )
    from bakehouse.errors import (
        BakehouseError as BakehouseError,
        DagsterCodeLocationLoadError as DagsterCodeLocationLoadError,
        DagsterError as DagsterError,
        DagsterExecutionStepExecutionError as DagsterExecutionStepExecutionError,
        DagsterInvalidConfigError as DagsterInvalidConfigError,
        DagsterInvalidDefinitionError as DagsterInvalidDefinitionError,
        DagsterInvalidInvocationError as DagsterInvalidInvocationError,
        DagsterInvalidSubsetError as DagsterInvalidSubsetError,
        DagsterInvariantViolationError as DagsterInvariantViolationError,
        DagsterResourceFunctionError as DagsterResourceFunctionError,
        DagsterRunNotFoundError as DagsterRunNotFoundError,
        DagsterTypeCheckDidNotPass as DagsterTypeCheckDidNotPass,
        DagsterUnknownPartitionError as DagsterUnknownPartitionError,
        DagsterUnknownResourceError as DagsterUnknownResourceError,
        DagsterUserCodeExecutionError as DagsterUserCodeExecutionError,
        DefinitionError as DefinitionError,
        UnknownPartitionError as UnknownPartitionError,
    )
    from bakehouse.execution.configurable_io_manager import (
        ConfigurableIOManager as ConfigurableIOManager,
        ConfigurableIOManagerFactory as ConfigurableIOManagerFactory,
    )
    from bakehouse.execution.fs_io_manager import FilesystemIOManager as FilesystemIOManager
    from bakehouse.execution.instance import (
        AssetRecordsFilter as AssetRecordsFilter,
        DagsterEventType as DagsterEventType,
        DagsterInstance as DagsterInstance,
        EventLogRecord as EventLogRecord,
        EventRecordsFilter as EventRecordsFilter,
        RunsFilter as RunsFilter,
    )
    from bakehouse.execution.io_managers import (
        InMemoryIOManager as InMemoryIOManager,
        InputContext as InputContext,
        IOManager as IOManager,
        OutputContext as OutputContext,
    )
    from bakehouse.execution.materialize import (
        ExecuteInProcessResult as ExecuteInProcessResult,
        materialize as materialize,
        materialize_to_memory as materialize_to_memory,
    )
    from bakehouse.execution.resource_setup import (
        build_resources as build_resources,
    )
    from bakehouse.execution.upath_io_manager import UPathIOManager as UPathIOManager
    from bakehouse.graph.keys import (
        AssetKey as AssetKey,
    )
