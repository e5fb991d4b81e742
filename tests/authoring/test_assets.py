"""`@asset`, `@multi_asset` and `AssetSpec`: what the signature and arguments declare, and the
errors raised at import time, each naming the function's file:line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

import bakehouse as dg
from bakehouse.authoring.assets import AssetsDefinition, coerce_deps
from bakehouse.errors import DefinitionError
from bakehouse.graph.keys import AssetKey
from tests.support.projects import line_of

WriteModule = Callable[..., ModuleType]


def test_the_function_name_is_the_key_and_parameters_are_inputs() -> None:
    @dg.asset
    def orders() -> list[int]:
        """All orders."""
        return [1]

    @dg.asset
    def summary(context: dg.AssetExecutionContext, orders: list[int]) -> int:
        return len(orders)

    assert orders.key == AssetKey("orders")
    assert orders.op_name == "orders"
    assert orders.descriptions_by_key[orders.key] == "All orders."
    assert summary.input_keys == {"orders": AssetKey("orders")}
    assert summary.params.context == "context"
    assert summary.dependency_keys == {AssetKey("orders")}


def test_name_key_prefix_and_key() -> None:
    @dg.asset(name="clean", key_prefix=["lake", "silver"])
    def f() -> int:
        return 1

    @dg.asset(key="gold/report")
    def g() -> int:
        return 1

    assert f.key == AssetKey(["lake", "silver", "clean"])
    assert f.op_name == "lake__silver__clean"
    assert g.key == AssetKey(["gold", "report"])


def test_key_prefix_also_prefixes_inputs_named_by_parameter() -> None:
    @dg.asset(key_prefix="lake")
    def clean(raw: int) -> int:
        return raw

    assert clean.input_keys == {"raw": AssetKey(["lake", "raw"])}


def test_asset_in_maps_a_parameter_to_another_key() -> None:
    @dg.asset(
        key_prefix="lake",
        ins={
            "o": dg.AssetIn(key=["raw", "orders"]),
            "c": dg.AssetIn(key_prefix="crm"),
            "plain": dg.AssetIn(),
        },
    )
    def joined(o: list[int], c: list[int], plain: int) -> int:
        return 0

    assert joined.input_keys == {
        "o": AssetKey(["raw", "orders"]),  # an explicit key is not prefixed
        "c": AssetKey(["crm", "c"]),
        "plain": AssetKey(["lake", "plain"]),
    }


def test_deps_accept_assets_specs_keys_strings_and_lists() -> None:
    @dg.asset
    def a() -> int:
        return 1

    spec = dg.AssetSpec("b")

    @dg.asset(deps=[a, spec, dg.AssetKey(["c", "d"]), "e/f", ["g"], dg.AssetDep("h")])
    def z() -> None:
        return None

    assert z.input_keys == {}
    assert z.specs[0].deps == (
        AssetKey("a"),
        AssetKey("b"),
        AssetKey(["c", "d"]),
        AssetKey(["e", "f"]),
        AssetKey("g"),
        AssetKey("h"),
    )


def test_coerce_deps_keeps_first_occurrence_order_without_repeats() -> None:
    assert coerce_deps(["a", "b", "a", dg.AssetKey("b")]) == [AssetKey("a"), AssetKey("b")]
    assert coerce_deps("a/b") == [AssetKey(["a", "b"])]
    assert coerce_deps(None) == []


def test_attributes_land_on_the_spec() -> None:
    @dg.asset(
        group_name="sales",
        compute_kind="pandas",
        kinds={"duckdb"},
        owners=["team:data", "ana@example.com"],
        tags={"tier": "gold"},
        code_version="v2",
        metadata={"source": "crm"},
        description="Explicit description.",
        io_manager_key="warehouse_io",
    )
    def orders() -> int:
        """Docstring loses to description=."""
        return 1

    spec = orders.specs[0]
    assert spec.group_name == "sales"
    assert spec.kinds == frozenset({"pandas", "duckdb"})
    assert spec.owners == ("team:data", "ana@example.com")
    assert dict(spec.tags) == {"tier": "gold"}
    assert spec.code_version == "v2"
    assert dict(spec.metadata) == {"source": "crm"}
    assert spec.description == "Explicit description."
    assert spec.io_manager_key == "warehouse_io"
    assert orders.group_names_by_key == {AssetKey("orders"): "sales"}


def test_defaults() -> None:
    @dg.asset
    def orders() -> int:
        return 1

    spec = orders.specs[0]
    assert spec.group_name == "default"
    assert spec.kinds == frozenset()
    assert spec.io_manager_key == "io_manager"
    assert spec.description is None


def test_resources_and_config_are_recognised_by_type() -> None:
    # This module has `from __future__ import annotations`: the annotations below are strings
    # naming classes that exist only in this function's scope, and must still be found.
    class Api(dg.ConfigurableResource):
        url: str = "http://x"

    class Settings(dg.Config):
        limit: int = 10

    @dg.asset(required_resource_keys={"extra"})
    def pull(context: dg.AssetExecutionContext, api: Api, config: Settings, raw: int) -> int:
        return raw

    @dg.multi_asset(outs={"a": dg.AssetOut(), "b": dg.AssetOut()})
    def split(api: Api, raw: int) -> tuple[int, int]:
        return raw, raw

    assert pull.params.resources == {"api": "api"}
    assert pull.params.config == ("config", Settings)
    assert pull.input_keys == {"raw": AssetKey("raw")}
    assert pull.required_resource_keys == {"api", "extra"}
    assert split.params.resources == {"api": "api"}
    assert split.input_keys == {"raw": AssetKey("raw")}


def test_resource_param_marks_a_plain_object_resource() -> None:
    class Client:
        pass

    @dg.asset
    def pull(client: dg.ResourceParam[Client]) -> int:
        return 1

    assert pull.params.resources == {"client": "client"}
    assert pull.input_keys == {}


def test_a_context_parameter_can_have_another_name_when_typed() -> None:
    @dg.asset
    def f(ctx: dg.AssetExecutionContext, orders: int) -> int:
        return orders

    assert f.params.context == "ctx"
    assert f.input_keys == {"orders": AssetKey("orders")}


def test_direct_invocation_builds_a_context_when_none_is_given() -> None:
    @dg.asset
    def with_context(context: dg.AssetExecutionContext, n: int) -> str:
        return f"{context.run_id}:{n}"

    @dg.asset
    def plain(n: int) -> int:
        return n + 1

    assert with_context(n=1) == "direct-invocation:1"
    assert with_context(dg.build_asset_context(run_id="r1"), 2) == "r1:2"
    assert plain(1) == 2


def test_asset_spec_records_where_it_was_written() -> None:
    spec = dg.AssetSpec("raw/orders", deps=["upstream"], kinds=["s3"])
    assert spec.key == AssetKey(["raw", "orders"])
    assert spec.deps == (AssetKey("upstream"),)
    assert spec.source is not None
    assert spec.source.file == __file__


def test_asset_spec_replace_attributes_coerces_keys_and_deps() -> None:
    spec = dg.AssetSpec("a").replace_attributes(key="b/c", deps=["d"], group_name="g")
    assert (spec.key, spec.deps, spec.group_name) == (AssetKey(["b", "c"]), (AssetKey("d"),), "g")


def test_multi_asset_with_outs() -> None:
    @dg.multi_asset(
        outs={
            "left": dg.AssetOut(key_prefix="split", group_name="g1", kinds={"csv"}),
            "right": dg.AssetOut(key=["other", "right"], is_required=False, owners=["a@b.c"]),
        },
        compute_kind="python",
        deps=["source"],
    )
    def split() -> tuple[int, int]:
        return 1, 2

    assert isinstance(split, AssetsDefinition)
    assert split.keys == [AssetKey(["split", "left"]), AssetKey(["other", "right"])]
    left, right = split.specs
    assert left.group_name == "g1"
    assert left.kinds == frozenset({"csv", "python"})
    assert left.deps == (AssetKey("source"),)
    assert right.skippable
    assert right.owners == ("a@b.c",)
    assert split.output_names == {left.key: "left", right.key: "right"}
    with pytest.raises(DefinitionError, match=r"produces 2 assets; use \.keys"):
        _ = split.key


def test_multi_asset_with_specs_keeps_their_own_deps_and_takes_the_shared_ones() -> None:
    @dg.multi_asset(
        specs=[dg.AssetSpec("a", deps=["x"]), dg.AssetSpec("b", group_name="own")],
        group_name="shared",
        deps=["y"],
    )
    def ab() -> None:
        return None

    a, b = ab.specs
    assert a.deps == (AssetKey("y"), AssetKey("x"))
    assert (a.group_name, b.group_name) == ("shared", "own")
    assert a.source == ab.source


def _source_line_error(write_module: WriteModule, text: str, marker: str) -> DefinitionError:
    with pytest.raises(DefinitionError) as err:
        write_module(text)
    source = err.value.source
    assert source is not None
    assert source.line == line_of(Path(source.file), marker)
    assert str(err.value).startswith(f"{source}: ")
    return err.value


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "@dg.asset\ndef f(*args):\n    return 1\n",
            "f: *args and **kwargs are not supported in an asset function",
        ),
        (
            "@dg.asset(ins={'missing': dg.AssetIn('x')})\ndef f(a):\n    return 1\n",
            "f: ins names ['missing'], which are not parameters of the function",
        ),
        (
            "@dg.asset(key='a', name='b')\ndef f():\n    return 1\n",
            "f: give either key= or name=/key_prefix=, not both",
        ),
        (
            "@dg.asset(name='has space')\ndef f():\n    return 1\n",
            "f: invalid asset key part 'has space'",
        ),
        (
            "@dg.asset(deps=[42])\ndef f():\n    return 1\n",
            "f: cannot use 42 as a dependency",
        ),
        (
            "@dg.multi_asset()\ndef f():\n    return 1\n",
            "f: @multi_asset needs exactly one of outs= or specs=",
        ),
        (
            "@dg.multi_asset(outs={'a': dg.AssetOut(key='k'), 'b': dg.AssetOut(key='k')})\n"
            "def f():\n    return 1, 2\n",
            "f: asset key 'k' appears twice in one multi_asset",
        ),
    ],
)
def test_bad_declarations_fail_at_import_naming_the_decorator_line(
    write_module: WriteModule, body: str, expected: str
) -> None:
    text = "import bakehouse as dg\n\nx = 1\n\n\n" + body
    error = _source_line_error(write_module, text, "@dg.")
    assert expected in error.detail


def test_string_annotations_from_future_import_are_understood(write_module: WriteModule) -> None:
    module = write_module(
        """
        from __future__ import annotations

        import bakehouse as dg


        class Api(dg.ConfigurableResource):
            url: str = "x"


        class Settings(dg.Config):
            n: int = 1


        @dg.asset
        def pull(context: dg.AssetExecutionContext, api: Api, config: Settings, raw: int) -> int:
            return raw
        """
    )
    params = module.pull.params
    assert params.context == "context"
    assert params.resources == {"api": "api"}
    assert params.config is not None
    assert params.config[1] is module.Settings
    assert module.pull.input_keys == {"raw": AssetKey("raw")}


def test_source_is_the_first_decorator_line(write_module: WriteModule) -> None:
    module = write_module(
        """
        import bakehouse as dg


        @dg.asset(
            group_name="g",
        )
        def orders():
            return 1
        """
    )
    assert module.orders.source is not None
    assert module.orders.source.line == 4
    assert module.orders.specs[0].source == module.orders.source
