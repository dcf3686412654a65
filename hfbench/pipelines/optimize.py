"""The ``optimize`` load key: which speed-ups a load applies, per level and device, and a record of them.

The levels are rows of one table (``pipelines/data/optimize.toml``): per device, the names of the
steps to apply, in order. Each step is a class registered here by name with ``@register_step``;
it may change the load keys before the weights are read (``configure``: 16-bit weights on CUDA)
and the model after placement (``apply``: int8 on CPU), and it says what it did. The record
(``OptimizationReport``) travels with the loaded model (``LoadedModel.optimization``) into the
benchmark recipe, so a result says what ran and whether it was lossy.

- ``exact`` (the default) applies only steps that keep outputs equal to plain fp32 eager
  transformers on the same folder (tests compare greedy tokens and embeddings on the tiny zoo);
- ``fast`` adds lossy steps: int8 dynamic quantization of ``nn.Linear`` on CPU, 16-bit weights
  on CUDA. Their quality change is measured (``hfbench compare-speed``, the harness's
  ``--sweep optimize=exact,fast``), never assumed.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar, TypeVar

from hfbench.core.errors import ConfigError, ModelLoadError
from hfbench.pipelines.loading import LoadOptions, resolve_device

logger = logging.getLogger(__name__)

TABLE_FILE = "optimize.toml"
DEVICES = ("cpu", "cuda", "mps")


@dataclass(frozen=True)
class AppliedStep:
    """One step of a level as it ran on one load.

    Attributes:
        name: the step's registered name (``int8-dynamic``).
        lossy: whether the step may change outputs.
        detail: what it did here, or why it did nothing.
        applied: False when the step could not apply here (e.g. a package missing) and was skipped.
    """

    name: str
    lossy: bool
    detail: str
    applied: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {"name": self.name, "lossy": self.lossy, "detail": self.detail, "applied": self.applied}


@dataclass(frozen=True)
class OptimizationReport:
    """What the ``optimize`` level did to one loaded model.

    Attributes:
        level: ``exact`` or ``fast``.
        device: the device kind the level's row was read for (``cpu``, ``cuda``, ``mps``).
        steps: every step of the row, in order, applied or skipped.
    """

    level: str
    device: str
    steps: tuple[AppliedStep, ...] = ()

    @property
    def lossy(self) -> bool:
        """Whether any applied step may have changed the model's outputs."""
        return any(step.lossy and step.applied for step in self.steps)

    @property
    def applied(self) -> list[str]:
        """Names of the steps that applied."""
        return [step.name for step in self.steps if step.applied]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (for benchmark records)."""
        return {
            "level": self.level,
            "device": self.device,
            "lossy": self.lossy,
            "steps": [step.to_dict() for step in self.steps],
        }


class OptimizeStep:
    """One speed-up. Subclasses set ``name``, ``lossy`` and ``summary`` and override one or both hooks.

    ``configure`` runs before the weights are read and may change load keys; ``apply`` runs after
    placement and may change the model. Each returns what it did (``None``: nothing at that
    stage); raise ``SkipStep`` to record that the step cannot apply here.
    """

    name: ClassVar[str]
    lossy: ClassVar[bool] = False
    summary: ClassVar[str] = ""

    def configure(self, config: dict[str, Any]) -> str | None:
        """Change load keys in ``config`` in place; return what was done."""
        return None

    def apply(self, model: Any, options: LoadOptions) -> str | None:
        """Change the loaded model in place; return what was done."""
        return None


class SkipStep(Exception):
    """Raised by a step that cannot apply here; its message is recorded as the reason.

    Args:
        reason: why, recorded in the report.
        expected: the skip is by design for this combination of keys (logged at INFO, not WARNING).
    """

    def __init__(self, reason: str, expected: bool = False) -> None:
        super().__init__(reason)
        self.expected = expected


S = TypeVar("S", bound=type[OptimizeStep])
_STEPS: dict[str, type[OptimizeStep]] = {}


def register_step(cls: S) -> S:
    """Class decorator: make a step available to the levels table under ``cls.name``."""
    _STEPS[cls.name] = cls
    return cls


def registered_steps() -> dict[str, type[OptimizeStep]]:
    """Every registered step, by name."""
    return dict(_STEPS)


@dataclass(frozen=True)
class Level:
    """One row of the levels table: its description and its steps per device."""

    name: str
    description: str
    steps: Mapping[str, tuple[str, ...]]


@lru_cache(maxsize=1)
def optimize_levels() -> dict[str, Level]:
    """The levels table (``pipelines/data/optimize.toml``), validated.

    Raises:
        ConfigError: the table names a device or step that does not exist, or its levels differ
            from the ``optimize`` key's choices.
    """
    from hfbench.core.config_schema import config_keys
    from hfbench.core.datafiles import read_package_toml

    data = read_package_toml(TABLE_FILE, package="hfbench.pipelines")
    levels: dict[str, Level] = {}
    for name, row in data.get("levels", {}).items():
        steps: dict[str, tuple[str, ...]] = {}
        for device, names in row.items():
            if device == "description":
                continue
            if device not in DEVICES:
                raise ConfigError(
                    f"unknown device {device!r}; valid: {', '.join(DEVICES)}.",
                    key_path=f"levels.{name}",
                    file=TABLE_FILE,
                )
            unknown = [n for n in names if n not in _STEPS]
            if unknown:
                raise ConfigError(
                    f"unknown step(s) {', '.join(unknown)}; registered: {', '.join(sorted(_STEPS))}.",
                    key_path=f"levels.{name}.{device}",
                    file=TABLE_FILE,
                )
            steps[device] = tuple(names)
        levels[name] = Level(name, str(row.get("description", "")), steps)
    choices = config_keys()["optimize"].choices or ()
    if set(levels) != set(choices):
        raise ConfigError(
            f"levels {sorted(levels)} differ from the optimize key's choices {sorted(choices)}.",
            file=TABLE_FILE,
        )
    return levels


@dataclass
class OptimizationPlan:
    """The steps one load applies: a level's row for the device the model goes to.

    Built by ``optimization_plan``; ``configure`` runs before the weights are read, ``apply``
    after placement, and ``apply`` returns the report of both stages.
    """

    level: str
    device: str
    steps: list[OptimizeStep]
    _notes: dict[str, list[str]] = field(default_factory=dict)
    _skipped: dict[str, str] = field(default_factory=dict)

    def configure(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The load keys after every step's ``configure`` (a new dict; ``config`` is unchanged)."""
        out = dict(config)
        for step in self.steps:
            self._run(step, step.configure, out)
        return out

    def apply(self, model: Any, options: LoadOptions) -> OptimizationReport:
        """Run every step's ``apply`` on the placed model; the report of what the level did."""
        for step in self.steps:
            if step.name not in self._skipped:
                self._run(step, step.apply, model, options)
        report = OptimizationReport(self.level, self.device, tuple(self._record(s) for s in self.steps))
        logger.info(
            "optimize=%s on %s: %s",
            self.level,
            self.device,
            "; ".join(f"{s.name}: {s.detail}" for s in report.steps) or "nothing to do",
        )
        return report

    def _run(self, step: OptimizeStep, hook: Callable[..., str | None], *args: Any) -> None:
        try:
            detail = hook(*args)
        except SkipStep as exc:
            self._skipped[step.name] = str(exc)
            log = logger.info if exc.expected else logger.warning
            log("optimize=%s: %s skipped: %s", self.level, step.name, exc)
            return
        if detail:
            self._notes.setdefault(step.name, []).append(detail)

    def _record(self, step: OptimizeStep) -> AppliedStep:
        if step.name in self._skipped:
            return AppliedStep(step.name, step.lossy, self._skipped[step.name], applied=False)
        detail = "; ".join(self._notes.get(step.name, [])) or step.summary
        return AppliedStep(step.name, step.lossy, detail)


def device_kind(options: LoadOptions) -> str:
    """``cpu``, ``cuda`` or ``mps``: the row of the table a load reads."""
    return resolve_device(options.device).split(":", 1)[0]


def optimization_plan(options: LoadOptions) -> OptimizationPlan:
    """The steps ``options.optimize`` applies on the device these options load to."""
    level = optimize_levels()[options.optimize]
    device = device_kind(options)
    names = level.steps.get(device, ())
    if options.compile:
        names = (*names, Compile.name)  # opt-in, after the level's steps (it compiles what they made)
    return OptimizationPlan(options.optimize, device, [_STEPS[name]() for name in names])


# ---- the steps ------------------------------------------------------------------------------
@register_step
class SdpaAttention(OptimizeStep):
    """Record the attention kernel: transformers picks PyTorch SDPA itself wherever a model
    supports it (``attn_implementation='auto'``), so nothing is forced here."""

    name = "sdpa"
    summary = "attention kernel as transformers chose it"

    def apply(self, model: Any, options: LoadOptions) -> str | None:
        """Say which kernel the model runs, and whether the config chose it."""
        config = getattr(model, "config", None)
        kernel = getattr(config, "_attn_implementation", None) or "unknown"
        if options.attn_implementation != "auto":
            return f"{kernel} (attn_implementation set in the config)"
        if kernel == "sdpa":
            return "sdpa (transformers' default for this model)"
        return f"{kernel} (this model has no SDPA support in transformers)"


@register_step
class InferenceMode(OptimizeStep):
    """Record that every pipeline call runs under ``torch.inference_mode`` (``BasePipeline.run``,
    streaming, the speech and multimodal paths): no autograd bookkeeping, same numbers."""

    name = "inference-mode"
    summary = "pipeline calls run under torch.inference_mode()"


@register_step
class CpuThreads(OptimizeStep):
    """Lower torch's intra-op threads to the cores this process may use (never raise them).

    torch starts with one thread per core it sees; in a container whose quota is smaller than the
    host, the extra threads only wait for each other. ``OMP_NUM_THREADS`` set by the user wins.
    """

    name = "cpu-threads"
    summary = "torch threads within the usable cores"

    def apply(self, model: Any, options: LoadOptions) -> str | None:
        """Lower ``torch.set_num_threads`` when it exceeds the usable cores."""
        import torch

        from hfbench.core.hardware import usable_cpu_cores

        current = torch.get_num_threads()
        if os.environ.get("OMP_NUM_THREADS"):
            return f"kept at {current} (OMP_NUM_THREADS is set)"
        cores = usable_cpu_cores()
        if current > cores:
            torch.set_num_threads(cores)
            return f"{current} -> {cores} (usable physical cores)"
        return f"kept at {current} (usable physical cores: {cores})"


@register_step
class PrepackedLinearStep(OptimizeStep):
    """float32 ``nn.Linear`` on CPU -> oneDNN's linear on weights prepacked once at load
    (``pipelines/prepacked_linear.py``): the same product without repacking the weight on every
    call. Equal to eager up to float rounding (greedy tokens checked on the tiny zoo and by
    ``hfbench compare-speed``); measured 1.7x decode on SmolLM2 and 1.8x MiniLM embeddings here.
    """

    name = "prepacked-linear"
    summary = "nn.Linear -> oneDNN linear on prepacked weights"

    def apply(self, model: Any, options: LoadOptions) -> str | None:
        """Swap the model's float32 ``nn.Linear`` layers in place.

        Raises:
            SkipStep: ``compile`` is on (inductor prepacks the weights itself), the weights are
                not float32, or this torch build lacks oneDNN.
        """
        import torch

        from hfbench.pipelines.prepacked_linear import (
            linear_weight_bytes,
            prepack_linears,
            prepacking_available,
        )

        if options.compile:
            raise SkipStep("compile is on: inductor freezes and prepacks the weights itself", expected=True)
        if not prepacking_available():
            raise SkipStep(f"torch {torch.__version__} has no oneDNN (mkldnn) linear on this CPU")
        dtype = getattr(model, "dtype", torch.float32)
        if dtype != torch.float32:
            raise SkipStep(
                f"weights are {str(dtype).removeprefix('torch.')}; only float32 is prepacked", expected=True
            )
        needed = linear_weight_bytes(model)
        available = _available_memory_bytes()
        if available is not None and needed * MEMORY_HEADROOM > available:
            raise SkipStep(
                f"the packed copy of the linear weights ({needed / 2**30:.1f} GiB, held beside the "
                f"originals while packing) does not fit the {available / 2**30:.1f} GiB available"
            )
        replaced, extra = prepack_linears(model)
        if not replaced:
            raise SkipStep("no float32 nn.Linear layers on the CPU")
        shared = f"; tied weights packed as well: +{extra / 2**20:.0f} MiB" if extra else ""
        return f"{replaced} nn.Linear layers -> oneDNN linear, weights prepacked{shared}"


@register_step
class EncoderReuse(OptimizeStep):
    """An encoder-decoder's encoder runs once per input within one ``generate`` call
    (``pipelines/encoder_reuse.py``): Whisper's no-speech check otherwise runs it a second time on
    the same features. The second call gets the first call's output object: identical outputs.
    """

    name = "encoder-reuse"
    summary = "encoder output reused within a generate call"

    def apply(self, model: Any, options: LoadOptions) -> str | None:
        """Install the memo on the model's encoder.

        Raises:
            SkipStep: the model has no separate encoder (decoder-only or encoder-only).
        """
        from hfbench.pipelines.encoder_reuse import reuse_encoder_outputs

        if reuse_encoder_outputs(model) is None:
            raise SkipStep("no separate encoder (not an encoder-decoder)", expected=True)
        return "encoder output reused within each generate call (Whisper's no-speech check)"


#: Packing holds each packed weight beside its original until the layer is swapped, and the copy
#: of the other weights (``prepacked_linear``) needs room too: pack only with this much to spare.
MEMORY_HEADROOM = 1.5


def _available_memory_bytes() -> int | None:
    """Memory the system can give now (psutil's ``available``), None when unknown."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except (ImportError, OSError):
        return None


#: Warnings torch gives for the eager quantization API it still ships; hfbench chose that API on
#: purpose (docs/fast.md: torchao's CPU int8 path measured far slower in eager mode here).
_TORCH_AO_WARNINGS = r"(torch\.ao\.quantization is deprecated|torch\.quantize_per_tensor)"


@register_step
class Int8Dynamic(OptimizeStep):
    """int8 weights and dynamically quantized int8 activations for every ``nn.Linear`` (CPU).

    ``torch.ao.quantization.quantize_dynamic``: weights are quantized per tensor once, at load;
    activations per call. Lossy: greedy text may change (measure it with ``hfbench compare-speed``).
    """

    name = "int8-dynamic"
    lossy = True
    summary = "nn.Linear -> int8 dynamic quantization"

    def apply(self, model: Any, options: LoadOptions) -> str | None:
        """Quantize the model's ``nn.Linear`` layers in place.

        Raises:
            ConfigError: the weights are not float32 (a dtype was set).
            ModelLoadError: this torch build has no CPU quantization engine or no ``quantize_dynamic``.
        """
        import torch

        dtype = getattr(model, "dtype", torch.float32)
        if dtype != torch.float32:
            raise ConfigError(
                f"optimize='fast' quantizes float32 weights to int8 on CPU, but the weights are "
                f"{str(dtype).removeprefix('torch.')}; leave dtype at 'auto' (or 'float32'), or use "
                "optimize='exact'.",
                key_path="optimize",
            )
        quantization = getattr(torch, "ao", None) and getattr(torch.ao, "quantization", None)
        quantize_dynamic = getattr(quantization, "quantize_dynamic", None)
        engines = [e for e in torch.backends.quantized.supported_engines if e != "none"]
        if quantize_dynamic is None or not engines:
            raise ModelLoadError(
                f"optimize='fast' on CPU needs torch's int8 quantization (torch.ao.quantization."
                f"quantize_dynamic and a quantized engine), which torch {torch.__version__} lacks; "
                "use optimize='exact'."
            )
        linears = sum(isinstance(m, torch.nn.Linear) for m in model.modules())
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_TORCH_AO_WARNINGS)
            quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
        engine = torch.backends.quantized.engine
        return f"{linears} nn.Linear layers -> int8 (torch.ao quantize_dynamic, {engine} engine)"


@register_step
class HalfPrecision(OptimizeStep):
    """16-bit weights on a GPU: bfloat16 where the GPU supports it, else float16 (a ``dtype``
    set in the config wins; ``auto`` already keeps a 16-bit checkpoint's dtype).

    Lossy against float32 weights. Not bitsandbytes: on an H100, a 1.1 B-parameter Llama at batch
    size 1 decoded at 24 % (LLM.int8) and 74 % (NF4) of bf16's speed — those save memory (the
    ``quantization`` key), they do not speed decoding up (docs/fast.md).
    """

    name = "half-precision"
    lossy = True
    summary = "16-bit weights (bf16, else fp16)"

    def configure(self, config: dict[str, Any]) -> str | None:
        """Set ``dtype`` to ``bfloat16`` (``float16`` without bf16 support) when it is ``auto``."""
        import torch

        dtype = config.get("dtype", "auto")
        if dtype not in (None, "auto"):
            return f"dtype={dtype!r} from the config, kept"
        supported = getattr(torch.cuda, "is_bf16_supported", lambda: False)
        chosen = "bfloat16" if torch.cuda.is_available() and supported() else "float16"
        config["dtype"] = chosen
        return f"dtype={chosen!r}"


@register_step
class Compile(OptimizeStep):
    """``torch.compile`` of the model's forward (inductor; on CPU with frozen, prepacked weights)
    and a static KV cache for ``generate``: the same computation in fewer, fused kernels.

    Opt-in (the ``compile`` load key): the first call compiles — about 50 s for SmolLM2 on two CPU
    cores — and each new input shape compiles again, so it pays only for long or repeated runs of
    one shape (docs/fast.md has the measured break-even). Not combined with int8 dynamic
    quantization (the quantized modules are not compiled: the step is skipped, and says so).
    """

    name = "compile"
    summary = "torch.compile (inductor) + static KV cache"

    def apply(self, model: Any, options: LoadOptions) -> str | None:
        """Wrap ``model.forward`` with ``torch.compile``; set a static cache for generation.

        Raises:
            SkipStep: the model holds int8 dynamically quantized layers.
        """
        import torch

        quantized = torch.ao.nn.quantized.dynamic.Linear
        if any(isinstance(module, quantized) for module in model.modules()):
            raise SkipStep(
                "not combined with int8-dynamic (its quantized layers are not compiled)", expected=True
            )
        parts = []
        if device_kind(options) == "cpu":
            import torch._inductor.config as inductor

            # Weights are constants at inference: inductor folds them and prepacks them for the
            # CPU's GEMM kernels (process-wide settings; they affect only compiled graphs).
            inductor.freezing = True
            inductor.cpp.weight_prepack = True
            parts.append("weights frozen and prepacked")
        model.forward = torch.compile(model.forward)
        generation = getattr(model, "generation_config", None)
        if generation is not None and getattr(model, "can_generate", lambda: False)():
            generation.cache_implementation = "static"
            parts.append("static KV cache")
        return "forward compiled on first call" + (f" ({', '.join(parts)})" if parts else "")
