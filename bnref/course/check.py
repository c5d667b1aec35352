"""직접 구현한 배치 정규화를 검사하고, 틀렸다면 어떤 실수인지 한국어로 알려 줍니다.

연습 문제마다 함수가 하나 있습니다. 독자가 쓴 함수를 받아, 실수를 드러내도록 고른 여러 입력(샘플
2개와 많은 샘플, 특성이 여럿, 평균이 0에서 먼 값, 분산이 0인 특성, 4차원 입력, 연속이 아닌 텐서)으로
실행하고 bnref 의 결과와 비교합니다. 판정은 한 번만 출력하고, 테스트가 읽을 수 있는
:class:`CheckResult` 를 돌려줍니다. 틀린 답에도, 예외를 내는 함수에도 예외를 내지 않습니다.

출력이 bnref 와 다르면 :mod:`bnref.course.mistakes` 에 있는 "실수한 구현"들을 같은 입력으로
실행해서, 모든 입력에서 독자의 출력과 같은 것이 있으면 그 실수의 이름을 댑니다. 어느 것과도 맞지
않으면 가장 큰 차이가 어디인지 알려 줍니다.

검사 함수와, 독자가 쓰는 함수의 시그니처 (검사기는 위치 인자로, 이 순서대로 부릅니다. 입력은 float64):

- :func:`batch_norm_train` (강의 2): ``batch_norm_train(x, gamma, beta, eps=1e-5) -> y``, x 는 (N, C)
- :func:`update_running_stats` (강의 3):
  ``update_running_stats(x, running_mean, running_var, momentum=0.1) -> (running_mean, running_var)``
- :func:`batch_norm_eval` (강의 3): ``batch_norm_eval(x, running_mean, running_var, gamma, beta, eps=1e-5) -> y``
- :func:`batch_norm_2d` (강의 5): ``batch_norm_2d(x, gamma, beta, eps=1e-5) -> y``, x 는 (N, C, H, W)
- :func:`batch_norm_backward` (강의 6):
  ``batch_norm_backward(dy, x, running_mean, running_var, gamma, training, eps=1e-5) -> (dx, dgamma, dbeta)``
- :func:`group_norm` (강의 12): ``group_norm(x, num_groups, gamma, beta, eps=1e-5) -> y``, x 는 (N, C, H, W)

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
import functools
import io
import math
import random
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from bnref import functional, norms
from bnref.course import mistakes as known
from bnref.course.printing import fmt

__all__ = ["CheckResult", "batch_norm_train", "update_running_stats", "batch_norm_eval", "batch_norm_2d",
           "batch_norm_backward", "group_norm"]

RTOL = 1e-4  # 독자가 float32로 계산해도 통과하고, 실수한 구현들끼리는 충분히 떨어지는 허용 오차


@dataclass(frozen=True)
class CheckResult:
    """검사 결과. 출력한 판정과 같은 내용을 테스트가 읽을 수 있게 담습니다.

    Args:
        exercise: 연습 문제 이름 (검사 함수의 이름과 같음)
        passed: 모든 입력에서 bnref 와 같으면 ``True``
        mistake: 통과하면 ``None``. 아니면 실수의 이름: :mod:`bnref.course.mistakes` 의 ``key`` 이거나
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


# ================================================================ 입력
@functools.cache
def _uniform(shape: tuple, seed: int) -> torch.Tensor:
    # 평균 0, 표준편차 1인 균등분포. torch 의 난수와 달리 random.random() 의 수열은 파이썬 판과
    # 플랫폼이 바뀌어도 같으므로, 판정에 찍히는 숫자가 어디서나 같습니다.
    rng = random.Random(seed)
    values = [(2 * rng.random() - 1) * math.sqrt(3) for _ in range(math.prod(shape))]
    return torch.tensor(values, dtype=torch.float64).reshape(shape)


def _randn(*shape, seed, mean=0.0, std=1.0):
    """(N, C, ...) 모양의 새 텐서. mean, std 는 숫자이거나 채널마다 값 하나씩인 리스트."""
    per_channel = [1, -1] + [1] * (len(shape) - 2)
    mean, std = (torch.tensor(v, dtype=torch.float64).reshape(per_channel) if isinstance(v, list) else v
                 for v in (mean, std))
    return _uniform(shape, seed) * std + mean


def _transposed(n, c, *, seed, mean=0.0, std=1.0):
    """(N, C) 모양이지만 메모리에서는 (C, N)인, 연속이 아닌 텐서 (x.t() 처럼)."""
    mean, std = (torch.tensor(v, dtype=torch.float64).reshape(-1, 1) if isinstance(v, list) else v
                 for v in (mean, std))
    return (_uniform((c, n), seed) * std + mean).t()


def _vec(*values):
    return torch.tensor(values, dtype=torch.float64)


@dataclass(frozen=True)
class Probe:
    """검사 입력 하나. ``make()`` 는 부를 때마다 새 입력을 만듭니다 (함수가 입력을 바꿔도 다음에 영향 없음)."""

    key: str
    label: str
    make: Callable[[], dict]


# ================================================================ 연습 문제
@dataclass(frozen=True)
class Exercise:
    name: str
    signature: str
    outputs: tuple             # 출력의 이름 ("y",) 또는 ("dx", "dγ", "dβ")
    returns: str               # 돌려줄 값의 설명
    probes: tuple
    reference: Callable        # bnref 로 계산한 정답, 시그니처는 독자의 함수와 같음
    mistakes: tuple
    frozen: tuple              # 함수가 바꾸면 안 되는 입력
    in_place_mistake: dict = field(default_factory=dict)   # 입력 이름 -> 그 입력을 바꾼 실수의 key
    in_place_result: tuple = ()  # None 을 돌려주면 대신 결과로 읽을 (제자리에서 갱신된) 입력
    raised_as: dict = field(default_factory=dict)  # 예외 메시지의 일부 -> (그 예외가 드러내는 실수의 key, 설명)


def _ref_train(x, gamma, beta, eps=1e-5):
    return functional.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)


def _ref_running(x, running_mean, running_var, momentum=0.1):
    running_mean, running_var = running_mean.clone(), running_var.clone()
    functional.batch_norm(x, running_mean, running_var, training=True, momentum=momentum)
    return running_mean, running_var


def _ref_eval(x, running_mean, running_var, gamma, beta, eps=1e-5):
    return functional.batch_norm(x, running_mean, running_var, gamma, beta, training=False, eps=eps)


def _ref_backward(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    x, gamma = x.detach().clone().requires_grad_(), gamma.detach().clone().requires_grad_()
    beta = torch.zeros_like(gamma, requires_grad=True)
    with torch.enable_grad():
        y = functional.batch_norm(x, running_mean.clone(), running_var.clone(), gamma, beta, training, eps=eps)
        # 손실 Σ y·dy 의 기울기 = dy 를 흘려보낸 기울기. y.backward(dy) 는 처음 부를 때 sympy 를 import 해서
        # 1초 넘게 걸리므로 스칼라 손실로 부릅니다.
        (y * dy).sum().backward()
    return x.grad, gamma.grad, beta.grad


def _ref_group_norm(x, num_groups, gamma, beta, eps=1e-5):
    return norms.group_norm(x, num_groups, gamma, beta, eps)


_ONES3, _ZEROS3 = _vec(1, 1, 1), _vec(0, 0, 0)

BATCH_NORM_TRAIN = Exercise(
    "batch_norm_train", "batch_norm_train(x, gamma, beta, eps=1e-5)", ("y",), "x와 모양이 같은 텐서 y",
    probes=(
        Probe("four", "샘플 4개, 특성 3개, γ = 1, β = 0", lambda: dict(
            x=_randn(4, 3, seed=1, std=10, mean=50), gamma=_ONES3.clone(), beta=_ZEROS3.clone(), eps=1e-5)),
        Probe("two", "샘플 2개, 특성 5개", lambda: dict(
            x=_randn(2, 5, seed=2, std=3), gamma=_randn(5, seed=3, std=0.5, mean=1), beta=_randn(5, seed=4),
            eps=1e-5)),
        Probe("many", "샘플 1000개, 평균 1000 근처", lambda: dict(
            x=_randn(1000, 4, seed=5, std=3, mean=[1000, 1005, 995, 1010]), gamma=_randn(4, seed=6, std=0.5, mean=1),
            beta=_randn(4, seed=7), eps=1e-5)),
        Probe("tiny", "분산이 ε인 특성과 값이 모두 같은 특성, γ = 1, β = 0", lambda: dict(
            x=_tiny_variance_features(), gamma=_ONES3.clone(), beta=_ZEROS3.clone(), eps=1e-5)),
        Probe("strided", "연속이 아닌(전치한) 입력", lambda: dict(
            x=_transposed(6, 3, seed=8, std=2, mean=[1, -1, 3]), gamma=_randn(3, seed=9, std=0.5, mean=1),
            beta=_randn(3, seed=10), eps=1e-5)),
    ),
    reference=_ref_train, mistakes=known.BATCH_NORM_TRAIN, frozen=("x", "gamma", "beta"))


def _tiny_variance_features():
    """(16, 3): 특성 0은 편향 분산이 정확히 ε, 특성 1은 보통, 특성 2는 값이 모두 7."""
    u = _randn(16, 2, seed=12)
    u = (u - u.mean(dim=0)) / u.std(dim=0, unbiased=False)
    return torch.stack([u[:, 0] * math.sqrt(1e-5) + 0.5, u[:, 1], torch.full((16,), 7.0, dtype=torch.float64)], 1)


UPDATE_RUNNING_STATS = Exercise(
    "update_running_stats", "update_running_stats(x, running_mean, running_var, momentum=0.1)",
    ("running_mean", "running_var"), "새 running_mean과 running_var, 두 텐서의 tuple",
    probes=(
        Probe("first", "샘플 4개, 처음 값(평균 0, 분산 1), momentum = 0.1", lambda: dict(
            x=_randn(4, 3, seed=21, std=10, mean=50), running_mean=_ZEROS3.clone(), running_var=_ONES3.clone(),
            momentum=0.1)),
        Probe("two", "샘플 2개, momentum = 0.3", lambda: dict(
            x=_randn(2, 5, seed=22, std=3), running_mean=_randn(5, seed=23),
            running_var=_randn(5, seed=24, std=0.5, mean=2), momentum=0.3)),
        Probe("many", "샘플 1000개, 평균 1000 근처, momentum = 0.01", lambda: dict(
            x=_randn(1000, 4, seed=25, std=3, mean=1000), running_mean=_randn(4, seed=26, mean=990),
            running_var=_randn(4, seed=27, std=0.5, mean=8), momentum=0.01)),
        Probe("strided", "연속이 아닌(전치한) 입력, momentum = 0.2", lambda: dict(
            x=_transposed(6, 3, seed=28, std=2), running_mean=_randn(3, seed=29),
            running_var=_randn(3, seed=30, std=0.5, mean=2), momentum=0.2)),
    ),
    reference=_ref_running, mistakes=known.UPDATE_RUNNING_STATS, frozen=("x",),
    in_place_result=("running_mean", "running_var"))


BATCH_NORM_EVAL = Exercise(
    "batch_norm_eval", "batch_norm_eval(x, running_mean, running_var, gamma, beta, eps=1e-5)", ("y",),
    "x와 모양이 같은 텐서 y",
    probes=(
        Probe("four", "샘플 4개, γ = 1, β = 0", lambda: dict(
            x=_randn(4, 3, seed=41, std=10, mean=50), running_mean=_vec(45, 55, 50), running_var=_vec(64, 144, 100),
            gamma=_ONES3.clone(), beta=_ZEROS3.clone(), eps=1e-5)),
        Probe("one", "샘플 하나", lambda: dict(
            x=_randn(1, 3, seed=42, std=2), running_mean=_randn(3, seed=43), running_var=_vec(2, 0.5, 1),
            gamma=_randn(3, seed=44, std=0.5, mean=1), beta=_randn(3, seed=45), eps=1e-5)),
        Probe("many", "샘플 1000개, 평균 1000 근처", lambda: dict(
            x=_randn(1000, 4, seed=46, std=3, mean=1000), running_mean=_vec(999, 1001, 1000, 1002),
            running_var=_vec(9, 4, 16, 1), gamma=_randn(4, seed=47, std=0.5, mean=1), beta=_randn(4, seed=48),
            eps=1e-5)),
        Probe("zero_var", "running_var가 0인 특성, γ = 1, β = 0", lambda: dict(
            x=_randn(5, 3, seed=49), running_mean=_vec(0.5, 0.25, -0.5), running_var=_vec(2, 0, 0.5),
            gamma=_ONES3.clone(), beta=_ZEROS3.clone(), eps=1e-5)),
        Probe("strided", "연속이 아닌(전치한) 입력", lambda: dict(
            x=_transposed(6, 3, seed=50, std=2), running_mean=_randn(3, seed=51), running_var=_vec(3, 0.5, 1.5),
            gamma=_randn(3, seed=52, std=0.5, mean=1), beta=_randn(3, seed=53), eps=1e-5)),
    ),
    reference=_ref_eval, mistakes=known.BATCH_NORM_EVAL, frozen=("x", "running_mean", "running_var", "gamma", "beta"),
    in_place_mistake={"running_mean": "updates_running_in_eval", "running_var": "updates_running_in_eval"},
    # F.batch_norm(training=True) 이나 학습 모드의 층을 부르면 샘플 하나인 입력에서 이 예외가 납니다.
    raised_as={"Expected more than 1 value per channel when training": (
        "batch_stats_in_eval", "학습 모드의 정규화(training=True)는 샘플이 하나인 배치를 받지 않습니다.")})


BATCH_NORM_2D = Exercise(
    "batch_norm_2d", "batch_norm_2d(x, gamma, beta, eps=1e-5)", ("y",), "x와 모양이 같은 텐서 y",
    probes=(
        Probe("small", "(N, C, H, W) = (2, 3, 1, 2), γ = 1, β = 0", lambda: dict(
            x=_randn(2, 3, 1, 2, seed=61, std=2, mean=[5, -3, 0]), gamma=_ONES3.clone(), beta=_ZEROS3.clone(),
            eps=1e-5)),
        Probe("channels_last", "channels_last 메모리 배치, (4, 3, 5, 5), 채널마다 평균이 다름", lambda: dict(
            x=_randn(4, 3, 5, 5, seed=62, std=[1, 5, 2], mean=[10, -20, 300]).to(memory_format=torch.channels_last),
            gamma=_randn(3, seed=63, std=0.5, mean=1), beta=_randn(3, seed=64), eps=1e-5)),
        Probe("constant", "값이 모두 같은 채널, γ = 1, β = 0", lambda: dict(
            x=_randn(3, 2, 2, 2, seed=65).index_fill(1, torch.tensor([1]), 4.0), gamma=_vec(1, 1),
            beta=_vec(0, 0), eps=1e-5)),
        Probe("sliced", "연속이 아닌(잘라 낸) 입력, (2, 4, 3, 3)", lambda: dict(
            x=_randn(2, 4, 3, 6, seed=66, std=3, mean=1)[..., ::2], gamma=_randn(4, seed=67, std=0.5, mean=1),
            beta=_randn(4, seed=68), eps=1e-5)),
    ),
    reference=_ref_train, mistakes=known.BATCH_NORM_2D, frozen=("x", "gamma", "beta"))


_GAMMA_BW = _vec(1.5, 0.5, -2.0)

BATCH_NORM_BACKWARD = Exercise(
    "batch_norm_backward", "batch_norm_backward(dy, x, running_mean, running_var, gamma, training, eps=1e-5)",
    ("dx", "dγ", "dβ"), "세 텐서 dx, dgamma, dbeta의 tuple (모양은 차례로 x, gamma, gamma와 같음)",
    probes=(
        Probe("four", "학습 모드, 샘플 4개, 특성 3개", lambda: dict(
            dy=_randn(4, 3, seed=81, mean=0.3), x=_randn(4, 3, seed=82, std=3, mean=2),
            running_mean=_ZEROS3.clone(), running_var=_ONES3.clone(), gamma=_GAMMA_BW.clone(), training=True,
            eps=1e-5)),
        Probe("two", "학습 모드, 샘플 2개", lambda: dict(
            dy=_randn(2, 5, seed=83, mean=-0.2), x=_randn(2, 5, seed=84, std=2), running_mean=torch.zeros(5,
            dtype=torch.float64), running_var=torch.ones(5, dtype=torch.float64),
            gamma=_randn(5, seed=85, std=0.5, mean=1), training=True, eps=1e-5)),
        Probe("many", "학습 모드, 샘플 64개, 평균 1000 근처", lambda: dict(
            dy=_randn(64, 3, seed=86, mean=0.1), x=_randn(64, 3, seed=87, std=3, mean=1000),
            running_mean=_ZEROS3.clone(), running_var=_ONES3.clone(), gamma=_GAMMA_BW.clone(), training=True,
            eps=1e-5)),
        Probe("strided", "학습 모드, 연속이 아닌(전치한) x와 dy", lambda: dict(
            dy=_transposed(6, 4, seed=88, mean=0.2), x=_transposed(6, 4, seed=89, std=2),
            running_mean=torch.zeros(4, dtype=torch.float64), running_var=torch.ones(4, dtype=torch.float64),
            gamma=_randn(4, seed=90, std=0.5, mean=1), training=True, eps=1e-5)),
        Probe("eval", "평가 모드, 샘플 4개", lambda: dict(
            dy=_randn(4, 3, seed=91, mean=0.3), x=_randn(4, 3, seed=92, std=3, mean=2),
            running_mean=_vec(1, 0, -1), running_var=_vec(4, 1, 0.25), gamma=_GAMMA_BW.clone(), training=False,
            eps=1e-5)),
        Probe("eval_many", "평가 모드, 샘플 16개, 평균 1000 근처", lambda: dict(
            dy=_randn(16, 3, seed=93), x=_randn(16, 3, seed=94, std=3, mean=1000),
            running_mean=_vec(999, 1001, 1000), running_var=_vec(9, 4, 16), gamma=_GAMMA_BW.clone(),
            training=False, eps=1e-5)),
    ),
    reference=_ref_backward, mistakes=known.BATCH_NORM_BACKWARD,
    frozen=("dy", "x", "running_mean", "running_var", "gamma"))


GROUP_NORM = Exercise(
    "group_norm", "group_norm(x, num_groups, gamma, beta, eps=1e-5)", ("y",), "x와 모양이 같은 텐서 y",
    probes=(
        Probe("small", "(N, C, H, W) = (2, 4, 1, 2), G = 2, γ = 1, β = 0", lambda: dict(
            x=_randn(2, 4, 1, 2, seed=101, std=2, mean=[1, -1, 3, 0]), num_groups=2, gamma=_vec(1, 1, 1, 1),
            beta=_vec(0, 0, 0, 0), eps=1e-5)),
        Probe("six", "(3, 6, 2, 2), G = 3", lambda: dict(
            x=_randn(3, 6, 2, 2, seed=102, std=2), num_groups=3, gamma=_randn(6, seed=103, std=0.5, mean=1),
            beta=_randn(6, seed=104), eps=1e-5)),
        Probe("one", "샘플 하나, (1, 4, 3, 3), G = 2", lambda: dict(
            x=_randn(1, 4, 3, 3, seed=105, std=2, mean=[0, 2, -2, 1]), num_groups=2,
            gamma=_randn(4, seed=106, std=0.5, mean=1), beta=_randn(4, seed=107), eps=1e-5)),
        Probe("far", "(2, 8, 3, 3), G = 4, 평균 1000 근처", lambda: dict(
            x=_randn(2, 8, 3, 3, seed=108, std=3, mean=[1000, 1005, 995, 1000, 1010, 990, 1000, 1002]), num_groups=4,
            gamma=_randn(8, seed=109, std=0.5, mean=1), beta=_randn(8, seed=110), eps=1e-5)),
        Probe("constant", "값이 모두 같은 묶음, G = 2, γ = 1, β = 0", lambda: dict(
            x=_randn(2, 4, 2, 2, seed=111).index_fill(1, torch.tensor([0, 1]), 3.0), num_groups=2,
            gamma=_vec(1, 1, 1, 1), beta=_vec(0, 0, 0, 0), eps=1e-5)),
        Probe("channels_last", "channels_last 메모리 배치, (2, 6, 3, 3), G = 2", lambda: dict(
            x=_randn(2, 6, 3, 3, seed=112, std=2, mean=1).to(memory_format=torch.channels_last), num_groups=2,
            gamma=_randn(6, seed=113, std=0.5, mean=1), beta=_randn(6, seed=114), eps=1e-5)),
    ),
    reference=_ref_group_norm, mistakes=known.GROUP_NORM, frozen=("x", "gamma", "beta"))


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
    items = value if isinstance(value, (tuple, list)) else (value,)
    if value is None or value is Ellipsis or any(v is None or v is Ellipsis for v in items):
        raise _Verdict("not_implemented", _not_implemented(ex, "함수가 None을 돌려줍니다."))
    if len(ex.outputs) == 1 and isinstance(value, torch.Tensor):
        return (value.detach(),)
    if (len(ex.outputs) > 1 and isinstance(value, (tuple, list)) and len(value) == len(ex.outputs)
            and all(isinstance(v, torch.Tensor) for v in value)):
        return tuple(v.detach() for v in value)
    raise _Verdict("wrong_type", _wrong(
        "돌려준 값의 종류가 다릅니다.", f"기대 {ex.returns}, 받은 값 {_describe(value)}.",
        f"돌려줄 값은 {ex.returns}입니다. 함수의 마지막 줄에서 return 하세요."))


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"모양 {tuple(value.shape)}인 텐서 하나"
    if isinstance(value, (tuple, list)):
        return f"원소 {len(value)}개의 {type(value).__name__}"
    return type(value).__name__


def _not_implemented(ex: Exercise, why: str) -> str:
    return (f"아직 구현하지 않았습니다: {why}\n"
            f"돌려줄 값: {ex.returns}\n"
            "함수의 빈자리(# 여기를 채우세요)를 채워 결과를 return 한 뒤, 함수 셀과 이 셀을 다시 실행하세요.")


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
    """예외가 난, 독자가 쓴 코드의 줄 (torch 와 이 파일 밖에서 가장 깊은 곳)."""
    skip = (str(Path(torch.__file__).parent), __file__)
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
            labels = "; ".join(p.label for p in ex.probes)
            return CheckResult(ex.name, True, None, f"통과: 입력 {len(ex.probes)}가지에서 모두 bnref와 같은 값을 "
                                                     f"냅니다.\n확인한 입력: {labels}")
        for mistake in ex.mistakes:
            if _matches(ex, mistake.variant, got):
                probe = next(p for p in ex.probes if p.key == mistake.shown_on)
                inputs = probe.make()
                evidence = mistake.evidence(inputs, got[probe.key], want[probe.key])
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

    ``fn(x, gamma, beta, eps=1e-5) -> y``: x 는 (N, C), gamma·beta 는 (C,), y 는 x 와 같은 모양.
    이 배치의 평균과 편향 분산(n으로 나눈 분산)으로 특성마다 정규화한 뒤 γ를 곱하고 β를 더합니다.
    """
    return _check(BATCH_NORM_TRAIN, fn)


def update_running_stats(fn) -> CheckResult:
    """이동 통계의 갱신 (강의 3)을 검사합니다.

    ``fn(x, running_mean, running_var, momentum=0.1) -> (running_mean, running_var)``: x 는 (N, C),
    나머지는 (C,). 새 값 ``(1 − momentum)·이전 값 + momentum·배치 통계``를 돌려줍니다 (분산은 불편 분산).
    torch 처럼 running_mean, running_var 를 제자리에서 바꾸고 None 을 돌려줘도 됩니다.
    """
    return _check(UPDATE_RUNNING_STATS, fn)


def batch_norm_eval(fn) -> CheckResult:
    """평가 모드의 배치 정규화 (강의 3)를 검사합니다.

    ``fn(x, running_mean, running_var, gamma, beta, eps=1e-5) -> y``: x 는 (N, C), 나머지는 (C,).
    이동 통계로 정규화하고, running_mean 과 running_var 는 바꾸지 않습니다.
    """
    return _check(BATCH_NORM_EVAL, fn)


def batch_norm_2d(fn) -> CheckResult:
    """BatchNorm2d 의 학습 모드 정규화 (강의 5)를 검사합니다.

    ``fn(x, gamma, beta, eps=1e-5) -> y``: x 는 (N, C, H, W), gamma·beta 는 (C,), y 는 x 와 같은 모양.
    채널마다 N, H, W 에 걸친 평균과 편향 분산으로 정규화합니다.
    """
    return _check(BATCH_NORM_2D, fn)


def batch_norm_backward(fn) -> CheckResult:
    """배치 정규화의 역전파 (강의 6)를 검사합니다.

    ``fn(dy, x, running_mean, running_var, gamma, training, eps=1e-5) -> (dx, dgamma, dbeta)``:
    dy·x 는 (N, C), 나머지는 (C,). ``torch.nn.functional.batch_norm`` 의 인자 앞에 dy 를 두고, 기울기에
    필요 없는 bias 와 momentum 을 뺀 순서입니다. 학습 모드(``training=True``)면 x 의 배치 통계로,
    평가 모드면 running_mean, running_var 로 x̂ 을 만들어 y = γ·x̂ + β 의 기울기를 돌려줍니다.
    """
    return _check(BATCH_NORM_BACKWARD, fn)


def group_norm(fn) -> CheckResult:
    """그룹 정규화 (강의 12)를 검사합니다.

    ``fn(x, num_groups, gamma, beta, eps=1e-5) -> y``: x 는 (N, C, H, W), gamma·beta 는 (C,).
    샘플마다 이웃한 C/G 개 채널을 한 묶음으로, 묶음마다 평균과 편향 분산으로 정규화한 뒤 채널마다
    γ를 곱하고 β를 더합니다 (``torch.nn.functional.group_norm`` 과 같음).
    """
    return _check(GROUP_NORM, fn)
