"""PyTorch가 자기 정규화 층을 시험할 때 쓰는 입력으로 bnref를 torch와 나란히 돌립니다 (issue #11).

torch는 시험 입력을 스스로 만듭니다. ``op_db``의 OpInfo는 함수마다 sample inputs, reference inputs,
error inputs를 만들고, ``module_db``의 ModuleInfo는 층마다 (생성자 인자, forward 입력)과 오류 입력을
만듭니다. 여기서는 그 생성기를 그대로 불러 같은 입력의 복사본 두 벌을 torch와 bnref에 주고 결과를
견줍니다: torch가 CPU에 적어 둔 dtype 전부(float32, float64, float16, bfloat16 가운데), requires_grad를
끄고 켜고, 층은 학습과 평가 모드에서, momentum=None이면 두 번째 forward까지. 생성기는 시드 0으로 돌리고
(연산·dtype마다 한 번만), float64 기준값은 허용 오차를 넘는 차이가 있을 때만 계산합니다.

실패 메시지는 어느 연산(층)·dtype·샘플의 무엇이 어떻게 틀렸는지와 그 수를 적습니다.
``python tests/test_torch_samples.py``는 연산·dtype마다 몇 번 돌렸고 몇 번이 float64 중재로만
통과했는지, 그리고 그 샘플들을 보여 줍니다.

판정은 텐서 하나씩 합니다 (출력, 제자리에서 바뀐 버퍼, state_dict, 입력·γ·β의 기울기).

1. torch의 기본 허용 오차(``torch.testing.assert_close``의 dtype별 rtol, atol) 안이면 통과입니다.
2. 벗어나면 float64 기준값을 구합니다: 같은 입력을 float64로 올려 torch로 계산한 값입니다.
   bnref가 원소마다 torch만큼 기준값에 가까우면 통과입니다. 정확히는 원소마다

       |bnref − ref| ≤ max(|torch − ref|, ulp(ref))

   이고, ulp(ref)는 그 dtype에서 ref 근처의 이웃한 두 수 사이의 간격입니다. 왼쪽이 오른쪽의 첫 항
   이하이면 bnref가 torch보다 가깝거나 같습니다. 둘째 항은 동점 처리입니다: 정확한 값은 대개 그 dtype의
   두 이웃 사이에 있고, 그 둘 중 어느 것이든 정확한 값에서 1 ulp 안입니다. 그 dtype의 결과가 약속할 수
   있는 최선이 이것이므로(faithful rounding), torch가 우연히 더 가까운 이웃에 떨어졌다고 bnref를 틀렸다고
   하지 않습니다. 반대로 bnref가 정확한 값에서 1 ulp보다 멀면서 torch보다도 멀면 실패입니다.
   NaN은 기준값도 NaN인 자리에서만 맞습니다.
3. float64 텐서는 기준값이 torch 자신이라 중재가 없습니다: 허용 오차 안이어야 합니다. 정수 텐서
   (``num_batches_tracked``)는 똑같아야 합니다.

이것이 bnref의 약속("torch만큼, 또는 더 정확하게")을 그대로 검사하는 방법입니다. torch와 다르다는 것만으로는
틀렸다고 하지 않지만, torch보다 부정확하면 실패입니다.

torch의 시험 모듈은 import할 때 ``sys.argv``를 읽고(argparse) ``expecttest``를 import하며, 전역 난수
시드를 정합니다. :func:`torch_db`는 ``sys.argv``를 비운 채 import하고 argv와 난수 상태를 되돌립니다.
torch의 비공개 코드는 생성기 말고는 쓰지 않습니다.
"""

from __future__ import annotations

import functools
import random
import re
import sys
import warnings
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

import bnref
from bnref import functional as BF
from bnref import norms as BN

DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)

# op_db 이름 -> bnref의 같은 함수. native_layer_norm은 (출력, 평균, rstd)를 돌려주는 torch 내부 연산이라
# bnref에는 짝이 없습니다: 같은 인자로 bnref.norms.layer_norm을 부르고 정규화된 출력과 그 기울기를 견줍니다.
OPS = {
    "nn.functional.batch_norm": BF.batch_norm,
    "nn.functional.instance_norm": BN.instance_norm,
    "nn.functional.layer_norm": BN.layer_norm,
    "nn.functional.group_norm": BN.group_norm,
    "native_layer_norm": BN.layer_norm,
}
MODULES = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "InstanceNorm1d",
           "InstanceNorm2d", "InstanceNorm3d")

# What torch 2.13 lists, written out so that collecting the tests does not import torch's test suite
# (a few seconds); test_the_lists_are_torchs checks them against torch.
FLOATS, HALVES = (torch.float32, torch.float64), (torch.float16, torch.bfloat16)
OP_DTYPES = {name: FLOATS + HALVES for name in OPS}
MODULE_DTYPES = {name: FLOATS + HALVES if name == "GroupNorm" else FLOATS for name in MODULES}
OPS_WITH_ERROR_INPUTS = ("nn.functional.group_norm", "native_layer_norm")
MODULES_WITH_ERROR_INPUTS = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm")

# torch.testing.assert_close의 기본 허용 오차 (그 문서의 표와 같음)
TOLERANCES = {torch.float16: (1e-3, 1e-5), torch.bfloat16: (1.6e-2, 1e-5), torch.float32: (1.3e-6, 1e-5),
              torch.float64: (1e-7, 1e-7)}


# ---------------------------------------------------------------- torch's generators
@functools.cache
def torch_db():
    """(op_db, module_db) from torch's own test suite, imported once.

    Importing torch.testing._internal.common_utils parses ``sys.argv`` with argparse (pytest's
    arguments would be read as its own), needs ``expecttest`` and seeds the global RNGs; so the
    import runs with an empty argv, and argv and the RNG states are restored afterwards. It also
    warns (ImportWarning) that ``hypothesis`` is missing, which only torch's property-based tests
    use; pytest's ``filterwarnings = error`` would turn that into a failure, so that one is ignored.
    """
    argv, states = sys.argv[:], (torch.random.get_rng_state(), random.getstate(), np.random.get_state())
    sys.argv = sys.argv[:1]
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Fail to import hypothesis", ImportWarning)
            from torch.testing._internal.common_methods_invocations import op_db
            from torch.testing._internal.common_modules import module_db
    finally:
        sys.argv = argv
        torch.random.set_rng_state(states[0])
        random.setstate(states[1])
        np.random.set_state(states[2])
    return op_db, module_db


@functools.cache
def op_info(name):
    (info,) = [op for op in torch_db()[0] if op.name == name and op.variant_test_name == ""]
    return info


@functools.cache
def module_info(name):
    (info,) = [m for m in torch_db()[1] if m.module_cls is getattr(torch.nn, name)]
    return info


def listed_dtypes(kind, name):
    """The dtypes torch lists for CPU, among float32/float64/float16/bfloat16, in DTYPES order."""
    info = op_info(name) if kind == "op" else module_info(name)
    return [d for d in DTYPES if d in set(info.supported_dtypes("cpu"))]


def _seeded(generate):
    """Run a generator function with a fixed seed (torch's generators draw from the global RNG)."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return list(generate())


@functools.cache
def op_samples(name, dtype, requires_grad, reference=True):
    """torch's reference inputs where the op has them (they start with its sample inputs), else its samples."""
    op = op_info(name)
    generate = op.reference_inputs if reference and op.reference_inputs_func is not None else op.sample_inputs
    return _seeded(lambda: generate("cpu", dtype, requires_grad=requires_grad))


@functools.cache
def module_inputs(name, dtype, requires_grad, training):
    m = module_info(name)
    return _seeded(lambda: m.module_inputs_func(m, device="cpu", dtype=dtype, requires_grad=requires_grad,
                                                training=training))


# ---------------------------------------------------------------- copies
def _copy(obj, dtype=None):
    """A fresh copy of every tensor in obj (nested tuples, lists, dicts), keeping requires_grad;
    floating tensors converted to ``dtype`` if given (the float64 reference)."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach()
        t = t.to(dtype) if dtype is not None and t.is_floating_point() else t.clone()
        return t.requires_grad_(obj.requires_grad)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_copy(o, dtype) for o in obj)
    if isinstance(obj, dict):
        return {k: _copy(v, dtype) for k, v in obj.items()}
    return obj


def _tensors(obj, path):
    """(path, tensor) for every tensor in obj, in a fixed order: names for failure messages."""
    if isinstance(obj, torch.Tensor):
        yield path, obj
    elif isinstance(obj, (tuple, list)):
        for i, o in enumerate(obj):
            yield from _tensors(o, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _tensors(v, f"{path}[{k!r}]")


def _grad_output(shape, dtype):
    """The same upstream gradient dy for torch and bnref (and, upcast, for the reference)."""
    g = torch.Generator().manual_seed(1234)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)


def _short(obj):
    """A readable one-line description of an argument: tensors by shape and dtype."""
    if isinstance(obj, torch.Tensor):
        return f"T{tuple(obj.shape)}"
    if isinstance(obj, (tuple, list)):
        inner = ", ".join(_short(o) for o in obj)
        return f"({inner})" if isinstance(obj, tuple) else f"[{inner}]"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k}={_short(v)}" for k, v in obj.items()) + "}"
    return repr(obj)


# ---------------------------------------------------------------- one run
def _backward(out, leaves, sample_dtype, results):
    """dy를 흘리고 requires_grad인 텐서들의 기울기를 results에 넣습니다."""
    if not out.requires_grad:
        return
    out.backward(_grad_output(out.shape, sample_dtype).to(out.dtype))
    for path, t in leaves:
        results[f"grad of {path}"] = t.grad


def run_op(name, fn, sample, sample_dtype, dtype=None):
    """fn(sample) on fresh copies: {what: tensor} with the output, the gradients of every tensor that
    requires grad, and every other tensor argument after the call (running statistics change in place)."""
    inp, args, kwargs = _copy((sample.input, sample.args, sample.kwargs), dtype)
    out = fn(inp, *args, **kwargs)
    if name == "native_layer_norm" and isinstance(out, tuple):
        out = out[0]                                  # torch: (output, mean, rstd)
    results = {"output": out.detach()}
    tensors = list(_tensors(inp, "input")) + list(_tensors(args, "args")) + list(_tensors(kwargs, "kwargs"))
    _backward(out, [(p, t) for p, t in tensors if t.requires_grad], sample_dtype, results)
    results.update({f"{p} after the call": t for p, t in tensors if not t.requires_grad and p != "input"})
    return results


def run_module(lib, name, minput, sample_dtype, training, dtype=None):
    """A module of ``lib`` (torch.nn or bnref) built and run as torch's module tests do; a second forward
    when momentum is None (the cumulative average). {what: tensor}."""
    ctor, fwd = minput.constructor_input, minput.forward_input
    module = getattr(lib, name)(*ctor.args, **ctor.kwargs).to(dtype or sample_dtype)
    module.train(training)
    args, kwargs = _copy((fwd.args, fwd.kwargs), dtype)
    out = module(*args, **kwargs)
    results = {"output": out.detach()}
    if training and getattr(module, "momentum", 0.1) is None:
        # a batch with other statistics, made in the sample's dtype (the float64 reference upcasts it)
        second = [(-0.5 * t.detach() + 1).requires_grad_(t.requires_grad) for t in fwd.args]
        results["output of a second forward"] = module(*_copy(second, dtype)).detach()
    leaves = list(_tensors(args, "input")) + [(n, p) for n, p in module.named_parameters()]
    _backward(out, [(p, t) for p, t in leaves if t.requires_grad], sample_dtype, results)
    results.update({f"state_dict[{k!r}]": v for k, v in module.state_dict().items()})
    return results


# ---------------------------------------------------------------- judging
def _ulp(ref, dtype):
    """The spacing of ``dtype`` near each value of ref (float64): 2^(e − p) for |ref| = m·2^e, m ∈ [0.5, 1),
    p = the dtype's significand bits; the subnormal spacing near 0."""
    info = torch.finfo(dtype)
    p = 1 - int(np.log2(info.eps))
    _, e = torch.frexp(ref.abs())
    ulp = torch.ldexp(torch.ones_like(ref), (e - p).to(ref.dtype))
    return torch.where(ref.abs() < info.tiny, info.tiny * info.eps, ulp)


def _distance(v, ref):
    """|v − ref| with NaN = NaN and ±Inf = ±Inf counted as 0, and any other NaN as infinitely far."""
    d = (v - ref).abs()
    d = torch.where((v == ref) | (v.isnan() & ref.isnan()), torch.zeros_like(d), d)
    return torch.nan_to_num(d, nan=float("inf"))


def within_tolerance(got, want):
    """assert_close's elementwise rule with torch's default tolerances for the dtype, NaN equal to NaN."""
    rtol, atol = TOLERANCES.get(want.dtype, (0.0, 0.0))         # integers (num_batches_tracked): exact
    g, w = got.double(), want.double()
    close = ((g - w).abs() <= atol + rtol * w.abs()) | (g == w) | (g.isnan() & w.isnan())
    return close


def at_least_as_close(got, want, ref, dtype):
    """The elementwise rule of the module docstring: |bnref − ref| ≤ max(|torch − ref|, ulp(ref))."""
    d_bnref, d_torch = _distance(got.double(), ref), _distance(want.double(), ref)
    return d_bnref <= torch.maximum(d_torch, _ulp(ref, dtype))


@dataclass
class Tally:
    """한 연산(또는 층)·한 dtype의 결과: 돌린 횟수, 중재로 통과한 것, 실패한 것 (설명 문장)."""
    runs: int = 0
    arbitrated: list = field(default_factory=list)
    failures: list = field(default_factory=list)

    def message(self, title):
        lines = [f"{title}: {len(self.failures)} of {self.runs} runs failed "
                 f"({len(self.arbitrated)} passed only through the float64 arbitration)"]
        return "\n".join(lines + [f"  - {f}" for f in self.failures])


def judge(tally, where, run_mine, run_theirs, reference):
    """Compare bnref's results with torch's; where they differ beyond tolerance, ask ``reference()``
    (the float64 run, computed only then) who is closer. Records the outcome in ``tally``."""
    tally.runs += 1
    mine, theirs = _raised(run_mine), _raised(run_theirs)
    if isinstance(mine, Exception) or isinstance(theirs, Exception):
        if type(mine) is not type(theirs) or str(mine) != str(theirs):
            tally.failures.append(f"{where}: bnref {_outcome(mine)}, torch {_outcome(theirs)}")
        return
    problems, arbitrated = [], []
    ref = None
    for what in theirs.keys() | mine.keys():
        want, got = theirs.get(what), mine.get(what)
        if want is None or got is None:
            if want is not None or got is not None:
                problems.append(f"{what}: torch gives {_short(want)}, bnref {_short(got)}")
            continue
        if got.shape != want.shape or got.dtype != want.dtype:
            problems.append(f"{what}: torch gives {_short(want)} {want.dtype}, bnref {_short(got)} {got.dtype}")
            continue
        close = within_tolerance(got, want)
        if bool(close.all()):
            continue
        bad = int((~close).sum())
        if want.dtype not in (torch.float32, torch.float16, torch.bfloat16):   # float64, integers: no arbitration
            problems.append(_mismatch(what, got, want, close, f"{bad} of {close.numel()} elements beyond tolerance"))
            continue
        ref = reference() if ref is None else ref
        ok = at_least_as_close(got, want, ref[what], want.dtype)
        if bool(ok.all()):
            arbitrated.append(what)
        else:
            problems.append(_mismatch(what, got, want, ok, f"{int((~ok).sum())} of {ok.numel()} elements beyond "
                                      "tolerance and farther than torch from the float64 reference", ref[what]))
    if problems:
        tally.failures.append(f"{where}: " + "; ".join(problems))
    elif arbitrated:
        tally.arbitrated.append(f"{where}: {', '.join(sorted(arbitrated))}")


def _mismatch(what, got, want, ok, how, ref=None):
    i = int((~ok).flatten().nonzero()[0])
    first = f"bnref {got.flatten()[i].item():.6g}, torch {want.flatten()[i].item():.6g}"
    if ref is not None:
        first += f", float64 reference {ref.flatten()[i].item():.6g}"
    return f"{what}: {how} (first at flat index {i}: {first})"


# ---------------------------------------------------------------- whole tables
def check_op(name, dtype, tally=None, requires_grads=(False, True), reference=True):
    """Every sample torch generates for op ``name`` in ``dtype``, with requires_grad False and True."""
    tally = tally or Tally()
    op = op_info(name)
    for requires_grad in requires_grads:
        for i, sample in enumerate(op_samples(name, dtype, requires_grad, reference)):
            where = (f"sample {i} requires_grad={requires_grad}: input {_short(sample.input)}, "
                     f"args {_short(sample.args)}, kwargs {_short(sample.kwargs)}")
            judge(tally, where, lambda: run_op(name, OPS[name], sample, dtype),
                  lambda: run_op(name, op.op, sample, dtype),
                  lambda: run_op(name, op.op, sample, dtype, dtype=torch.float64))
    return tally


def check_module(name, dtype, tally=None, requires_grads=(False, True)):
    """Every input torch generates for module ``name`` in ``dtype``: train and eval, requires_grad both ways."""
    tally = tally or Tally()
    for training in (True, False):
        for requires_grad in requires_grads:
            for minput in module_inputs(name, dtype, requires_grad, training):
                ctor = minput.constructor_input
                where = (f"{minput.desc or 'default'} ({'train' if training else 'eval'}, "
                         f"requires_grad={requires_grad}): {name}{_short(ctor.args)} {_short(ctor.kwargs)} "
                         f"on input {_short(minput.forward_input.args)}")
                judge(tally, where, lambda: run_module(bnref, name, minput, dtype, training),
                      lambda: run_module(torch.nn, name, minput, dtype, training),
                      lambda: run_module(torch.nn, name, minput, dtype, training, dtype=torch.float64))
    return tally


def _raised(fn):
    """fn()'s result, or the exception it raised (an answer to compare like any other)."""
    try:
        return fn()
    except Exception as error:  # noqa: BLE001
        return error


def _outcome(result):
    return f"raised {type(result).__name__}: {result}" if isinstance(result, Exception) else "returned"


def _error_verdict(error, want_type, regex, torch_error):
    """None if bnref's error is what torch's error input expects (and torch's own), else what is wrong."""
    if not isinstance(error, Exception):
        return "bnref raised nothing"
    if not isinstance(error, want_type) or re.search(regex, str(error)) is None:
        return f"bnref raised {type(error).__name__}: {error}; expected {want_type.__name__} matching {regex!r}"
    if not isinstance(torch_error, Exception) or type(error) is not type(torch_error) or str(error) != str(torch_error):
        return f"bnref raised {type(error).__name__}: {error}; torch raised {type(torch_error).__name__}: {torch_error}"
    return None


def check_op_errors(name):
    """torch's error inputs for op ``name``: the same exception type and message. (runs, failures)"""
    op, failures = op_info(name), []
    errors = _seeded(lambda: op.error_inputs("cpu"))
    for i, e in enumerate(errors):
        s = e.sample_input
        mine = _raised(lambda: OPS[name](*_copy((s.input, *s.args)), **_copy(s.kwargs)))
        theirs = _raised(lambda: op.op(*_copy((s.input, *s.args)), **_copy(s.kwargs)))
        verdict = _error_verdict(mine, e.error_type, e.error_regex, theirs)
        if verdict:
            failures.append(f"error input {i} (input {_short(s.input)}, args {_short(s.args)}): {verdict}")
    return len(errors), failures


def check_module_errors(name):
    m, failures = module_info(name), []
    errors = _seeded(lambda: m.module_error_inputs_func(m, device="cpu", dtype=torch.float32,
                                                        requires_grad=False, training=True))
    for i, e in enumerate(errors):
        ctor, fwd = e.module_error_input.constructor_input, e.module_error_input.forward_input

        def attempt(lib):
            module = getattr(lib, name)(*ctor.args, **ctor.kwargs)
            if e.error_on.name == "FORWARD_ERROR":
                module(*_copy(fwd.args), **_copy(fwd.kwargs))

        verdict = _error_verdict(_raised(lambda: attempt(bnref)), e.error_type, e.error_regex,
                                 _raised(lambda: attempt(torch.nn)))
        if verdict:
            failures.append(f"error input {i} ({e.error_on.name}: {name}{_short(ctor.args)} {_short(ctor.kwargs)}):"
                            f" {verdict}")
    return len(errors), failures


# ---------------------------------------------------------------- the tests
def _id(name, dtype):
    return f"{name}-{str(dtype).removeprefix('torch.')}"


def test_the_lists_are_torchs():
    """The parametrisation below covers exactly the dtypes and error inputs torch lists for CPU."""
    assert {n: tuple(listed_dtypes("op", n)) for n in OPS} == OP_DTYPES
    assert {n: tuple(listed_dtypes("module", n)) for n in MODULES} == MODULE_DTYPES
    assert tuple(n for n in OPS if op_info(n).error_inputs_func is not None) == OPS_WITH_ERROR_INPUTS
    assert tuple(n for n in MODULES if module_info(n).module_error_inputs_func is not None) == \
        MODULES_WITH_ERROR_INPUTS
    for name in OPS:                     # reference inputs, where an op has them, begin with its samples
        samples = op_info(name).sample_inputs("cpu", torch.float32)
        used = op_samples(name, torch.float32, False)
        assert len(used) >= len(list(samples)), name


# To keep this file near its share of the fast suite's time, the fast suite runs a representative part of the
# matrix: every op and module in every dtype, with requires_grad=True (forward, buffers and all gradients),
# on torch's sample inputs. The slow suite runs the rest: requires_grad=False (the no-grad path) and
# group_norm's reference inputs (twelve (20, 6, 10, 10) inputs per dtype).
REQUIRES_GRAD = [pytest.param(True, id="grad"), pytest.param(False, id="nograd", marks=pytest.mark.slow)]
OP_PARTS = [pytest.param((True,), False, id="grad-samples"),
            pytest.param((False, True), True, id="all-reference", marks=pytest.mark.slow)]


@pytest.mark.parametrize("requires_grads, reference", OP_PARTS)
@pytest.mark.parametrize("name, dtype", [(n, d) for n in OPS for d in OP_DTYPES[n]],
                         ids=[_id(n, d) for n in OPS for d in OP_DTYPES[n]])
def test_op_samples_match_torch(name, dtype, requires_grads, reference):
    tally = check_op(name, dtype, requires_grads=requires_grads, reference=reference)
    assert tally.runs and not tally.failures, tally.message(f"{name} {dtype} requires_grad={requires_grads}")


@pytest.mark.parametrize("requires_grad", REQUIRES_GRAD)
@pytest.mark.parametrize("name, dtype", [(n, d) for n in MODULES for d in MODULE_DTYPES[n]],
                         ids=[_id(n, d) for n in MODULES for d in MODULE_DTYPES[n]])
def test_module_samples_match_torch(name, dtype, requires_grad):
    tally = check_module(name, dtype, requires_grads=(requires_grad,))
    assert tally.runs and not tally.failures, tally.message(f"{name} {dtype} requires_grad={requires_grad}")


@pytest.mark.parametrize("name", OPS_WITH_ERROR_INPUTS)
def test_op_error_inputs_raise_torchs_errors(name):
    runs, failures = check_op_errors(name)
    assert runs and not failures, f"{name}: {len(failures)} of {runs} error inputs failed\n" + "\n".join(failures)


@pytest.mark.parametrize("name", MODULES_WITH_ERROR_INPUTS)
def test_module_error_inputs_raise_torchs_errors(name):
    runs, failures = check_module_errors(name)
    assert runs and not failures, f"{name}: {len(failures)} of {runs} error inputs failed\n" + "\n".join(failures)


# ---------------------------------------------------------------- the table for the report
def main():
    rows = []
    for name in OPS:
        for dtype in OP_DTYPES[name]:
            rows.append((name, dtype, check_op(name, dtype)))
    for name in MODULES:
        for dtype in MODULE_DTYPES[name]:
            rows.append((name, dtype, check_module(name, dtype)))
    print(f"{'op / module':<30} {'dtype':<9} {'runs':>5} {'arbitrated':>10} {'failed':>6}")
    for name, dtype, tally in rows:
        print(f"{name:<30} {str(dtype)[6:]:<9} {tally.runs:>5} {len(tally.arbitrated):>10} {len(tally.failures):>6}")
    for name, dtype, tally in rows:
        for line in tally.arbitrated:
            print(f"arbitrated  {name} {str(dtype)[6:]}: {line}")
        if tally.failures:
            print(tally.message(f"{name} {dtype}"))
    for name in OPS_WITH_ERROR_INPUTS:
        runs, failures = check_op_errors(name)
        print(f"error inputs {name}: {runs} run, {len(failures)} failed", *failures, sep="\n  ")
    for name in MODULES_WITH_ERROR_INPUTS:
        runs, failures = check_module_errors(name)
        print(f"error inputs {name}: {runs} run, {len(failures)} failed", *failures, sep="\n  ")


if __name__ == "__main__":
    main()
