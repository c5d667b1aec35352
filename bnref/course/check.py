"""직접 구현한 배치 정규화를 검사하고, 틀렸다면 어떤 실수인지 한국어로 알려 줍니다.

연습 문제마다 함수가 하나 있습니다. 독자가 쓴 함수를 받아, 실수를 드러내도록 고른 여러 입력(샘플
2개와 많은 샘플, 특성이 여럿, 평균이 0에서 먼 값, 분산이 0인 특성, 4차원 입력, 연속이 아닌 텐서)으로
실행하고 bnref의 결과와 비교합니다. 판정은 한 번만 출력하고, 테스트가 읽을 수 있는
:class:`CheckResult`를 돌려줍니다. 틀린 답에도, 예외를 내는 함수에도 예외를 내지 않습니다.

출력이 bnref와 다르면 :mod:`bnref.course.mistakes`에 있는 "실수한 구현"들을 같은 입력으로
실행해서, 모든 입력에서 독자의 출력과 같은 것이 있으면 그 실수의 이름을 댑니다. 어느 것과도 맞지
않으면 가장 큰 차이가 어디인지 알려 줍니다.

검사 함수와, 독자가 쓰는 함수의 시그니처 (검사기는 위치 인자로, 이 순서대로 부릅니다. 입력은 float64):

- :func:`batch_norm_train` (강의 2): ``batch_norm_train(x, gamma, beta, eps=1e-5) -> y``, x는 (N, C)
- :func:`update_running_stats` (강의 3):
  ``update_running_stats(x, running_mean, running_var, momentum=0.1) -> (running_mean, running_var)``
- :func:`batch_norm_eval` (강의 3): ``batch_norm_eval(x, running_mean, running_var, gamma, beta, eps=1e-5) -> y``
- :func:`batch_norm_2d` (강의 5): ``batch_norm_2d(x, gamma, beta, eps=1e-5) -> y``, x는 (N, C, H, W)
- :func:`batch_norm_backward` (강의 6):
  ``batch_norm_backward(dy, x, running_mean, running_var, gamma, training, eps=1e-5) -> (dx, dgamma, dbeta)``
- :func:`group_norm` (강의 12): ``group_norm(x, num_groups, gamma, beta, eps=1e-5) -> y``, x는 (N, C, H, W)

Examples::

    >>> import torch
    >>> from bnref.course import check
    >>> def batch_norm_train(x, gamma, beta, eps=1e-5):
    ...     mean, var = x.mean(dim=0), x.var(dim=0)          # 불편 분산으로 정규화 (실수)
    ...     return gamma * (x - mean) / torch.sqrt(var + eps) + beta
    >>> result = check.batch_norm_train(batch_norm_train)
    틀렸습니다: 정규화에 불편 분산(n−1로 나눈 분산)을 썼습니다.
    근거: 샘플 4개인 입력에서 출력의 분산이 1이 아니라 0.7500입니다. (n−1)/n = 3/4배로 줄었습니다.
    고치려면: 정규화에는 편향 분산(n으로 나눈 분산)을 씁니다: x.var(dim=0, unbiased=False)
    >>> result.passed, result.mistake
    (False, 'unbiased_var')
"""
from __future__ import annotations

import contextlib
import io
import math
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch

from bnref.course import exercises
from bnref.course.exercises import Exercise, Probe
from bnref.course.printing import fmt

__all__ = ["CheckResult", "batch_norm_train", "update_running_stats", "batch_norm_eval", "batch_norm_2d",
           "batch_norm_backward", "group_norm"]

RTOL = 1e-4  # 독자가 float32로 계산해도 통과하고, 실수한 구현들끼리는 충분히 떨어지는 허용 오차


@dataclass(frozen=True)
class CheckResult:
    """검사 결과. 출력한 판정과 같은 내용을 테스트가 읽을 수 있게 담습니다.

    Args:
        exercise: 연습 문제 이름 (검사 함수의 이름과 같음)
        passed: 모든 입력에서 bnref와 같으면 ``True``
        mistake: 통과하면 ``None``. 아니면 실수의 이름: :mod:`bnref.course.mistakes`의 ``key`` 이거나
            ``"not_implemented"``, ``"raised"``, ``"wrong_type"``, ``"modified_input"``, ``"wrong_shape"``,
            ``"unknown"``
        message: 출력한 판정 (한국어)
        inputs: 판정이 가리키는 입력 (이름 -> 값). 그 입력으로 함수를 직접 불러 볼 수 있습니다.
    """

    exercise: str
    passed: bool
    mistake: str | None
    message: str
    inputs: dict | None = field(default=None, repr=False, compare=False)


# ================================================================ 실행과 비교
class _Verdict(Exception):
    """판정이 정해졌다: 더 볼 것 없이 이 결과를 돌려줍니다."""

    def __init__(self, mistake, message, inputs=None):
        super().__init__(mistake)
        self.mistake, self.message, self.inputs = mistake, message, inputs


def _wrong(what: str, evidence: str, fix: str) -> str:
    return f"틀렸습니다: {what}\n근거: {evidence}\n고치려면: {fix}"


def _call(fn, inputs: dict):
    """독자의 함수를 위치 인자로 부릅니다. 그 안의 print 와 경고는 판정 하나만 남도록 감춥니다."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return fn(*inputs.values())


def _as_outputs(ex: Exercise, value, inputs: dict, probe: Probe) -> tuple:
    """돌려받은 값을 출력 텐서들의 tuple 로. 비었거나 종류가 다르면 _Verdict."""
    if value is None and ex.in_place_result:
        fresh = probe.make()
        if any(not _same(inputs[k], fresh[k]) for k in ex.in_place_result):  # 제자리에서 갱신했다
            return tuple(inputs[k].detach() for k in ex.in_place_result)
    if value is None or value is Ellipsis:
        raise _Verdict("not_implemented", _not_implemented(ex, "함수가 None을 돌려줍니다."))
    if isinstance(value, (tuple, list)) and len(value) == len(ex.outputs):
        missing = [name for name, v in zip(ex.outputs, value) if v is None or v is Ellipsis]
        if missing:
            raise _Verdict("not_implemented", _not_implemented(
                ex, f"돌려준 값 가운데 아직 None인 것이 있습니다: {', '.join(missing)}."))
    if len(ex.outputs) == 1 and isinstance(value, torch.Tensor):
        return (value.detach(),)
    if (len(ex.outputs) > 1 and isinstance(value, (tuple, list)) and len(value) == len(ex.outputs)
            and all(isinstance(v, torch.Tensor) for v in value)):
        return tuple(v.detach() for v in value)
    raise _Verdict("wrong_type", _wrong(
        "돌려준 값의 종류가 다릅니다.", f"기대 {ex.returns}, 받은 값 {_describe(value)}.",
        f"돌려줄 값은 {ex.returns}입니다. 함수의 마지막 줄에서 return하세요."))


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"모양 {tuple(value.shape)}인 텐서 하나"
    if isinstance(value, (tuple, list)):
        return f"원소 {len(value)}개의 {type(value).__name__}"
    return type(value).__name__


def _not_implemented(ex: Exercise, why: str) -> str:
    return (f"아직 구현하지 않았습니다: {why}\n"
            f"돌려줄 값: {ex.returns}\n"
            "함수의 빈자리(# 여기를 채우세요)를 채워 결과를 return한 뒤, 함수 셀과 이 셀을 다시 실행하세요.")


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return a.shape == b.shape and torch.equal(a.isnan(), b.isnan()) and torch.equal(a.nan_to_num(), b.nan_to_num())
    return a == b


def _index(t: torch.Tensor, flat: int) -> str:
    idx = []
    for size in reversed(t.shape):
        idx.append(flat % size)
        flat //= size
    return "[" + ", ".join(map(str, reversed(idx))) + "]"


def _close(got: torch.Tensor, want: torch.Tensor) -> bool:
    if got.shape != want.shape:
        return False
    got, want = got.double(), want.double()
    finite = want[want.isfinite()]
    scale = max(1.0, finite.abs().max().item()) if finite.numel() else 1.0
    return torch.allclose(got, want, rtol=RTOL, atol=RTOL * scale, equal_nan=True)


def _all_close(got: tuple, want: tuple) -> bool:
    return all(_close(g, w) for g, w in zip(got, want))


def _raised(ex: Exercise, probe: Probe, error: Exception, inputs: dict) -> _Verdict:
    if isinstance(error, NotImplementedError):
        return _Verdict("not_implemented", _not_implemented(ex, "함수가 NotImplementedError를 냅니다."), inputs)
    text = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
    where = _reader_line(error)
    evidence = f"[{probe.label}] 입력에서 {text.rstrip(': .')}" + (f" ({where})" if where else "") + "."
    for part, (key, note) in ex.raised_as.items():
        if part in str(error):
            mistake = next(m for m in ex.mistakes if m.key == key)
            return _Verdict(key, _wrong(mistake.what, f"{evidence} {note}", mistake.fix), inputs)
    return _Verdict("raised", _wrong("함수를 실행하다가 예외가 났습니다.", evidence, _hint(ex, str(error))), inputs)


def _reader_line(error: Exception) -> str:
    """예외가 난, 독자가 쓴 코드의 줄 (torch 와 bnref 밖에서 가장 깊은 곳)."""
    skip = (str(Path(torch.__file__).parent), str(Path(__file__).parents[1]))
    frames = [f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith(skip)]
    if not frames:
        return ""
    frame = frames[-1]
    return f"{frame.lineno}번째 줄: {frame.line}" if frame.line else f"{frame.lineno}번째 줄"


def _hint(ex: Exercise, message: str) -> str:
    if "must match the size" in message:
        return ("모양이 맞지 않아 브로드캐스팅할 수 없습니다. 평균과 분산, γ와 β의 모양이 입력의 어느 차원에 "
                "맞춰지는지 확인하세요. (C,) 모양은 마지막 차원에 맞춰지므로 keepdim=True나 view로 모양을 맞춥니다.")
    if "view size is not compatible" in message:
        return "연속이 아닌 텐서에는 view를 쓸 수 없습니다. reshape로 바꾸세요."
    if "positional argument" in message:
        return f"검사기는 함수를 {ex.signature}의 순서대로, 위치 인자로 부릅니다. 인자의 개수와 순서를 맞추세요."
    return "예외 메시지와 그 줄을 확인하세요. 그 입력은 result.inputs로 받아 함수를 직접 불러 볼 수 있습니다."


def _run(ex: Exercise, fn) -> dict:
    """모든 입력에서 독자의 함수를 실행해 출력을 모읍니다. 예외·빈 값·입력 변경은 _Verdict."""
    got = {}
    for probe in ex.probes:
        inputs = probe.make()
        try:
            value = _call(fn, inputs)
        except Exception as error:  # 독자의 어떤 예외도 판정으로 바꿉니다
            raise _raised(ex, probe, error, probe.make()) from None
        got[probe.key] = _as_outputs(ex, value, inputs, probe)
        _check_unchanged(ex, probe, inputs)
    return got


def _check_unchanged(ex: Exercise, probe: Probe, inputs: dict) -> None:
    before = probe.make()
    for name in ex.frozen:
        if _same(inputs[name], before[name]):
            continue
        a, b = before[name].flatten(), inputs[name].detach().flatten()
        i = int((a.nan_to_num() != b.nan_to_num()).nonzero()[0]) if a.shape == b.shape else 0
        evidence = (f"[{probe.label}] 입력의 {name}{_index(before[name], i)}: 부르기 전 {fmt(a[i])}, "
                    f"부른 뒤 {fmt(b[i]) if a.shape == b.shape else '모양이 바뀜'}.")
        key = ex.in_place_mistake.get(name, "modified_input")
        mistake = next((m for m in ex.mistakes if m.key == key), None)
        if mistake is not None:
            raise _Verdict(key, _wrong(mistake.what, evidence, mistake.fix), probe.make())
        raise _Verdict(key, _wrong(
            f"함수가 입력 {name}의 값을 제자리에서(in place) 바꿨습니다.", evidence,
            f"{name} -= mean이나 {name}.sub_(mean) 같은 제자리 연산 대신 {name} = {name} - mean처럼 새 텐서를 "
            "만드세요. 함수를 부른 쪽의 텐서가 바뀌면 안 됩니다."), probe.make())


_OUTPUTS: dict = {}  # (연습 문제, 구현, 입력) -> 출력. bnref 와 실수한 구현의 출력은 늘 같으므로 한 번만 계산


def _outputs_of(ex: Exercise, impl, probe: Probe):
    """bnref 나 실수한 구현의 출력. 구현이 그 입력에서 예외를 내면 None (어떤 출력과도 맞지 않음)."""
    key = (ex.name, impl, probe.key)
    if key not in _OUTPUTS:
        try:
            value = _call(impl, probe.make())
            _OUTPUTS[key] = tuple(v.detach() for v in (value if isinstance(value, tuple) else (value,)))
        except Exception:
            _OUTPUTS[key] = None
    return _OUTPUTS[key]


def _matches(ex: Exercise, impl, got: dict) -> bool:
    for probe in ex.probes:
        out = _outputs_of(ex, impl, probe)
        if out is None or not _all_close(got[probe.key], out):
            return False
    return True


def _largest_error(ex: Exercise, got: dict, want: dict) -> _Verdict:
    """어떤 실수와도 맞지 않을 때: 모양이 다른 곳, 아니면 차이가 가장 큰 곳."""
    worst = None
    for probe in ex.probes:
        for name, g, w in zip(ex.outputs, got[probe.key], want[probe.key]):
            if g.shape != w.shape:
                return _Verdict("wrong_shape", _wrong(
                    "출력의 모양이 다릅니다.", f"[{probe.label}] 입력에서 {name}의 모양: 기대 {tuple(w.shape)}, "
                    f"받은 값 {tuple(g.shape)}.",
                    "평균과 분산을 어느 차원으로 줄였는지, 그 결과가 입력에 어떻게 브로드캐스팅되는지 확인하세요."),
                    probe.make())
            g, w = g.double().flatten(), w.double().flatten()
            error = (g - w).abs().nan_to_num(nan=math.inf)
            error[g.isnan() & w.isnan()] = 0
            i = int(error.argmax())
            scale = max(1.0, w[w.isfinite()].abs().max().item()) if w.isfinite().any() else 1.0
            if worst is None or error[i] / scale > worst[0]:
                worst = (error[i] / scale, probe, name, i, w, g)
    _, probe, name, i, w, g = worst
    shape = next(t for n, t in zip(ex.outputs, want[probe.key]) if n == name)
    return _Verdict("unknown", (
        "틀렸지만 알려진 실수와 맞지 않습니다.\n"
        f"근거: 가장 큰 차이는 [{probe.label}] 입력의 {name}{_index(shape, i)}입니다: 기대 {fmt(w[i])}, "
        f"받은 값 {fmt(g[i])}.\n"
        "고치려면: 그 입력(result.inputs)으로 함수를 직접 불러 단계마다 값을 출력해 보고, 강의의 식과 "
        "한 줄씩 비교하세요."), probe.make())


def _diagnose(ex: Exercise, fn) -> CheckResult:
    try:
        got = _run(ex, fn)
        want = {p.key: _outputs_of(ex, ex.reference, p) for p in ex.probes}
        if all(_all_close(got[k], want[k]) for k in got):
            labels = "".join(f"\n- {p.label}" for p in ex.probes)
            return CheckResult(ex.name, True, None, f"통과: 입력 {len(ex.probes)}가지에서 모두 bnref와 같은 값을 "
                                                     f"냅니다.\n확인한 입력:{labels}")
        for mistake in ex.mistakes:
            if _matches(ex, mistake.variant, got):
                probe = next(p for p in ex.probes if p.key == mistake.shown_on)
                inputs = probe.make()
                try:
                    evidence = mistake.evidence(inputs, got[probe.key], want[probe.key])
                except Exception:  # 근거의 숫자를 못 구해도 판정은 냅니다
                    evidence = f"모든 입력에서 출력이 이 실수를 한 구현의 출력과 같습니다 ([{probe.label}] 입력 등)."
                raise _Verdict(mistake.key, _wrong(mistake.what, evidence, mistake.fix), inputs)
        raise _largest_error(ex, got, want)
    except _Verdict as verdict:
        return CheckResult(ex.name, False, verdict.mistake, verdict.message, verdict.inputs)


def _check(ex: Exercise, fn) -> CheckResult:
    result = _diagnose(ex, fn)
    print(result.message)
    return result


# ================================================================ 연습 문제마다 하나
def batch_norm_train(fn) -> CheckResult:
    """학습 모드의 배치 정규화 (강의 2)를 검사합니다.

    ``fn(x, gamma, beta, eps=1e-5) -> y``: x는 (N, C), gamma·beta는 (C,), y는 x와 같은 모양.
    이 배치의 평균과 편향 분산(n으로 나눈 분산)으로 특성마다 정규화한 뒤 γ를 곱하고 β를 더합니다.
    """
    return _check(exercises.BATCH_NORM_TRAIN, fn)


def update_running_stats(fn) -> CheckResult:
    """이동 통계의 갱신 (강의 3)을 검사합니다.

    ``fn(x, running_mean, running_var, momentum=0.1) -> (running_mean, running_var)``: x는 (N, C),
    나머지는 (C,). 새 값 ``(1 − momentum)·이전 값 + momentum·배치 통계``를 돌려줍니다 (분산은 불편 분산).
    torch처럼 running_mean, running_var를 제자리에서 바꾸고 None을 돌려줘도 됩니다.
    """
    return _check(exercises.UPDATE_RUNNING_STATS, fn)


def batch_norm_eval(fn) -> CheckResult:
    """평가 모드의 배치 정규화 (강의 3)를 검사합니다.

    ``fn(x, running_mean, running_var, gamma, beta, eps=1e-5) -> y``: x는 (N, C), 나머지는 (C,).
    이동 통계로 정규화하고, running_mean과 running_var는 바꾸지 않습니다.
    """
    return _check(exercises.BATCH_NORM_EVAL, fn)


def batch_norm_2d(fn) -> CheckResult:
    """BatchNorm2d의 학습 모드 정규화 (강의 5)를 검사합니다.

    ``fn(x, gamma, beta, eps=1e-5) -> y``: x는 (N, C, H, W), gamma·beta는 (C,), y는 x와 같은 모양.
    채널마다 N, H, W에 걸친 평균과 편향 분산으로 정규화합니다.
    """
    return _check(exercises.BATCH_NORM_2D, fn)


def batch_norm_backward(fn) -> CheckResult:
    """배치 정규화의 역전파 (강의 6)를 검사합니다.

    ``fn(dy, x, running_mean, running_var, gamma, training, eps=1e-5) -> (dx, dgamma, dbeta)``:
    dy·x는 (N, C), 나머지는 (C,). ``torch.nn.functional.batch_norm``의 인자 앞에 dy를 두고, 기울기에
    필요 없는 bias와 momentum을 뺀 순서입니다. 학습 모드(``training=True``)면 x의 배치 통계로,
    평가 모드면 running_mean, running_var로 x̂을 만들어 y = γ·x̂ + β의 기울기를 돌려줍니다.
    """
    return _check(exercises.BATCH_NORM_BACKWARD, fn)


def group_norm(fn) -> CheckResult:
    """그룹 정규화 (강의 12)를 검사합니다.

    ``fn(x, num_groups, gamma, beta, eps=1e-5) -> y``: x는 (N, C, H, W), gamma·beta는 (C,).
    샘플마다 이웃한 C/G 개 채널을 한 묶음으로, 묶음마다 평균과 편향 분산으로 정규화한 뒤 채널마다
    γ를 곱하고 β를 더합니다 (``torch.nn.functional.group_norm``과 같음).
    """
    return _check(exercises.GROUP_NORM, fn)
