"""Runtime recipes: how a model is run (dtype, quantization, runtime, context), tried in order.

A recommendation is a model *and* a recipe. ``data/recipes.toml`` lists, per accelerator, the
recipes a user would try — 16-bit weights on a GPU (bf16, or fp16 without bf16), then 8-bit,
then 4-bit (bitsandbytes, CUDA only); fp32 on a CPU, bf16 there only where this machine's
measurements show it faster; fp16 on Apple GPUs. ``recipes_for`` gives the ones that apply to a
model on a machine, each with why it was left out when it was (``RecipeChoice.skipped``).

A model whose checkpoint fixes its dtype (``default_dtype``, e.g. a pre-quantized int4) gets that
recipe only; a tuned recommendation's measured recipe is tried first.

Example:
    >>> from hfbench.registry import hardware_facts, hardware_profile
    >>> from hfbench.registry.recipes import recipes_for
    >>> [r.recipe.name for r in recipes_for(hardware_facts(hardware_profile("consumer-gpu-24gb")))]
    ['bf16', 'int8', 'nf4']
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from hfbench.core.datafiles import read_package_toml
from hfbench.core.dtypes import canonical_dtype, dtype_info
from hfbench.core.errors import ConfigError, RecommendationError
from hfbench.core.validation import Field, Problem, check_table, greater_than, join_path, problems_message
from hfbench.registry.recipe import Recipe, RecipeCheck, RecipeChoice
from hfbench.registry.requirements import normalise_requirements, unmet_requirements
from hfbench.registry.speed import ACCELERATORS

if TYPE_CHECKING:
    from hfbench.registry.hardware import HardwareFacts
    from hfbench.registry.recommendation import ModelRecommendation

__all__ = ["Recipe", "RecipeCheck", "RecipeChoice", "recipe_table", "recipes_for"]

RECIPES_FILE = "recipes.toml"


_RECIPE_FIELDS: dict[str, Field] = {
    "name": Field((str,), "short name", required=True),
    "accelerators": Field((list,), "cpu, cuda, mps", required=True),
    "dtype": Field((str,), "the weights' dtype", required=True),
    "quantization": Field((str,), "the quantization config value", choices=("8bit", "4bit")),
    "backend": Field((str,), "the library that provides it"),
    "runtime": Field((str,), "what runs the model"),
    "requires": Field((dict,), "machine flags it needs"),
    "measured_only": Field((bool,), "only where measured faster"),
    "than": Field((str,), "the dtype measured_only compares with"),
    "speed_factor": Field((float,), "kernel factor on the efficiency", check=greater_than(0)),
    "source": Field((str,), "where the factor comes from", required=True),
    "notes": Field((str,), "for users"),
}


def parse_recipes(data: Mapping[str, Any], *, file: str = RECIPES_FILE) -> tuple[Recipe, ...]:
    """Validate the recipe table (every problem at once, with its key path).

    Raises:
        RecommendationError: unknown keys, wrong types, unknown accelerators or dtypes.
    """
    top, problems = check_table(
        data,
        {"version": Field((int,), required=True, choices=(1,)), "recipe": Field((list,), required=True)},
    )
    recipes: list[Recipe] = []
    for index, entry in enumerate(top.get("recipe", [])):
        path = f"recipe[{index}]"
        row, found = check_table(entry, _RECIPE_FIELDS, key_path=path)
        bad = [a for a in row.get("accelerators", []) if a not in ACCELERATORS]
        if bad:
            found.append(Problem(join_path(path, "accelerators"), f"unknown {bad}; valid: {ACCELERATORS}"))
        for key in ("dtype", "than"):
            if key in row:
                try:
                    row[key] = dtype_info(row[key]).short
                except ConfigError as exc:
                    found.append(Problem(join_path(path, key), exc.reason))
        requires, req_problems = normalise_requirements(row.get("requires"), join_path(path, "requires"))
        found += req_problems
        if row.get("measured_only") and "than" not in row:
            found.append(Problem(join_path(path, "than"), "measured_only needs the dtype to compare with"))
        problems += found
        if not found:
            row["accelerators"] = tuple(row["accelerators"])
            row["requires"] = requires
            recipes.append(Recipe(**row))
    if problems:
        raise RecommendationError(problems_message(problems, what="recipe table", file=file))
    return tuple(recipes)


@lru_cache(maxsize=1)
def recipe_table() -> tuple[Recipe, ...]:
    """hfbench's recipes (``registry/data/recipes.toml``), in the order they are tried."""
    data = read_package_toml(RECIPES_FILE, package="hfbench.registry")
    return parse_recipes(data, file=f"hfbench/registry/data/{RECIPES_FILE}")


def _fixed(name: str, dtype: str, accelerator: str, source: str, quantization: str | None = None) -> Recipe:
    """A recipe the model itself fixes: its checkpoint's dtype, or how a tuned file measured it."""
    short = dtype_info(dtype).short
    like = next((r for r in recipe_table() if r.dtype == short and accelerator in r.accelerators), None)
    return Recipe(
        name=name,
        accelerators=(accelerator,),
        dtype=short,
        quantization=quantization or (like.quantization if like else None),
        backend=like.backend if like else None,
        speed_factor=like.speed_factor if like else 1.0,
        source=source,
    )


def recipes_for(hardware: HardwareFacts, rec: ModelRecommendation | None = None) -> list[RecipeChoice]:
    """The recipes to try for a model on a machine, in order (skipped ones say why).

    - a machine that names its dtype (a dict's ``dtype``) gets that dtype only;
    - a model whose checkpoint fixes its dtype (``default_dtype``) gets that recipe only;
    - a tuned model's measured recipe comes first;
    - then the table's recipes for the machine's accelerator whose requirements it meets; a
      ``measured_only`` recipe only where this machine's calibration measured it faster.
    """
    accelerator = hardware.accelerator
    if hardware.dtype_fixed:
        return [
            RecipeChoice(_fixed(hardware.dtype, hardware.dtype, accelerator, "the dtype the machine gives"))
        ]
    if rec is not None and rec.default_dtype:
        source = "the checkpoint's own dtype (default_dtype)"
        return [
            RecipeChoice(_fixed(f"checkpoint {rec.default_dtype}", rec.default_dtype, accelerator, source))
        ]
    choices: list[RecipeChoice] = []
    # A machine that does not say whether it has bf16 gets the 16-bit dtype it defaults to.
    facts = {"supports_bf16": hardware.dtype != "fp16", **hardware.facts}
    measured = _measured_recipe(rec, accelerator)
    if measured is not None:
        choices.append(RecipeChoice(measured))
    for recipe in recipe_table():
        if accelerator not in recipe.accelerators:
            continue
        if measured is not None and recipe.dtype == measured.dtype:
            continue
        unmet = unmet_requirements(recipe.requires, facts)
        skipped = f"needs {'; '.join(unmet)}" if unmet else None
        if skipped is None and recipe.measured_only:
            than = recipe.than or "fp32"
            speed = hardware.speed
            if speed is None or not speed.measured_faster(recipe.dtype, than):
                skipped = f"not measured faster than {than} on this machine"
        if skipped is not None and recipe.requires.keys() <= {"supports_bf16"} and not recipe.measured_only:
            continue  # bf16 vs fp16: exactly one of them applies; the other is not worth a line
        choices.append(RecipeChoice(recipe, skipped))
    return choices


def _measured_recipe(rec: ModelRecommendation | None, accelerator: str) -> Recipe | None:
    """The recipe a tuned recommendation was measured with (None when it has none)."""
    if rec is None or not rec.recipe or not rec.measured:
        return None
    dtype = rec.recipe.get("dtype")
    device = str(rec.recipe.get("device") or accelerator).split(":")[0]
    if not isinstance(dtype, str) or device != accelerator:
        return None
    try:
        canonical_dtype(dtype)
    except ConfigError:
        return None
    quantization = rec.recipe.get("quantization")
    return _fixed(
        f"as measured ({dtype_info(dtype).short})",
        dtype,
        accelerator,
        "the recipe this machine's tuned file measured",
        quantization if isinstance(quantization, str) else None,
    )
