"""연습 문제의 정의: 검사기(:mod:`bnref.course.check`)가 독자의 함수를 실행할 입력과 bnref로 구한 정답.

입력(:class:`Probe`)은 흔한 실수가 드러나도록 골랐습니다. 샘플이 2개(평가 모드는 1개)인 미니배치에서는
n과 n−1의 차이가 크고, 샘플이 많은 입력은 작은 차이도 평균을 내어 보여 주며, 평균이 0에서 먼 값은
평균을 빼지 않은 구현을, 분산이 0이거나 ε 정도인 특성은 ε을 빠뜨리거나 잘못 더한 구현을, 채널마다
평균이 다른 4차원 입력은 통계를 잘못 모은 구현을, 메모리에서 연속이 아닌 텐서(전치, ``channels_last``,
잘라 낸 텐서)는 ``view``에 기대는 구현을 드러냅니다. γ = 1, β = 0인 입력에서는 출력의 통계가 곧
정규화의 통계라서 근거의 숫자를 읽기 쉽습니다.

값은 :func:`random.Random`으로 만듭니다. torch의 난수와 달리 그 수열은 파이썬 판과 플랫폼이 바뀌어도
같으므로, 판정에 찍히는 숫자가 어디서나 같습니다. 입력은 모두 float64입니다.

:mod:`bnref.course.mistakes`의 ``shown_on``은 여기 있는 입력의 이름(``key``)입니다.
"""
from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass, field
from typing import Callable

import torch

from bnref import functional, norms
from bnref.course import mistakes as known

__all__ = ["Probe", "Exercise", "BATCH_NORM_TRAIN", "UPDATE_RUNNING_STATS", "BATCH_NORM_EVAL", "BATCH_NORM_2D",
           "BATCH_NORM_BACKWARD", "GROUP_NORM"]


# ================================================================ 입력
@functools.cache
def _uniform(shape: tuple, seed: int) -> torch.Tensor:
    """평균 0, 표준편차 1인 균등분포 (값은 늘 같음, 모듈 설명 참고)."""
    rng = random.Random(seed)
    values = [(2 * rng.random() - 1) * math.sqrt(3) for _ in range(math.prod(shape))]
    return torch.tensor(values, dtype=torch.float64).reshape(shape)


def _values(*shape, seed, mean=0.0, std=1.0):
    """평균 mean, 표준편차 std 인 (N, C, ...) 모양의 새 텐서. mean, std 는 숫자이거나 채널마다 값 하나씩인 리스트."""
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
    """검사 입력 하나. ``make()``는 부를 때마다 새 입력을 만듭니다 (함수가 입력을 바꿔도 다음에 영향 없음)."""

    key: str
    label: str
    make: Callable[[], dict]


# ================================================================ 연습 문제
@dataclass(frozen=True)
class Exercise:
    """연습 문제 하나: 독자의 함수를 부를 입력들, bnref로 구한 정답, 알려진 실수들."""

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
            x=_values(4, 3, seed=1, std=10, mean=50), gamma=_ONES3.clone(), beta=_ZEROS3.clone(), eps=1e-5)),
        Probe("two", "샘플 2개, 특성 5개", lambda: dict(
            x=_values(2, 5, seed=2, std=3), gamma=_values(5, seed=3, std=0.5, mean=1), beta=_values(5, seed=4),
            eps=1e-5)),
        Probe("many", "샘플 1000개, 평균 1000 근처", lambda: dict(
            x=_values(1000, 4, seed=5, std=3, mean=[1000, 1005, 995, 1010]), gamma=_values(4, seed=6, std=0.5, mean=1),
            beta=_values(4, seed=7), eps=1e-5)),
        Probe("tiny", "분산이 ε인 특성과 값이 모두 같은 특성, γ = 1, β = 0", lambda: dict(
            x=_tiny_variance_features(), gamma=_ONES3.clone(), beta=_ZEROS3.clone(), eps=1e-5)),
        Probe("strided", "연속이 아닌(전치한) 입력", lambda: dict(
            x=_transposed(6, 3, seed=8, std=2, mean=[1, -1, 3]), gamma=_values(3, seed=9, std=0.5, mean=1),
            beta=_values(3, seed=10), eps=1e-5)),
    ),
    reference=_ref_train, mistakes=known.BATCH_NORM_TRAIN, frozen=("x", "gamma", "beta"))


def _tiny_variance_features():
    """(16, 3): 특성 0은 편향 분산이 정확히 ε, 특성 1은 보통, 특성 2는 값이 모두 7."""
    u = _values(16, 2, seed=12)
    u = (u - u.mean(dim=0)) / u.std(dim=0, unbiased=False)
    return torch.stack([u[:, 0] * math.sqrt(1e-5) + 0.5, u[:, 1], torch.full((16,), 7.0, dtype=torch.float64)], 1)


UPDATE_RUNNING_STATS = Exercise(
    "update_running_stats", "update_running_stats(x, running_mean, running_var, momentum=0.1)",
    ("running_mean", "running_var"), "새 running_mean과 running_var, 두 텐서의 tuple",
    probes=(
        Probe("first", "샘플 4개, 처음 값(평균 0, 분산 1), momentum = 0.1", lambda: dict(
            x=_values(4, 3, seed=21, std=10, mean=50), running_mean=_ZEROS3.clone(), running_var=_ONES3.clone(),
            momentum=0.1)),
        Probe("two", "샘플 2개, momentum = 0.3", lambda: dict(
            x=_values(2, 5, seed=22, std=3), running_mean=_values(5, seed=23),
            running_var=_values(5, seed=24, std=0.5, mean=2), momentum=0.3)),
        Probe("many", "샘플 1000개, 평균 1000 근처, momentum = 0.01", lambda: dict(
            x=_values(1000, 4, seed=25, std=3, mean=1000), running_mean=_values(4, seed=26, mean=990),
            running_var=_values(4, seed=27, std=0.5, mean=8), momentum=0.01)),
        Probe("strided", "연속이 아닌(전치한) 입력, momentum = 0.2", lambda: dict(
            x=_transposed(6, 3, seed=28, std=2), running_mean=_values(3, seed=29),
            running_var=_values(3, seed=30, std=0.5, mean=2), momentum=0.2)),
    ),
    reference=_ref_running, mistakes=known.UPDATE_RUNNING_STATS, frozen=("x",),
    in_place_result=("running_mean", "running_var"))


BATCH_NORM_EVAL = Exercise(
    "batch_norm_eval", "batch_norm_eval(x, running_mean, running_var, gamma, beta, eps=1e-5)", ("y",),
    "x와 모양이 같은 텐서 y",
    probes=(
        Probe("four", "샘플 4개, γ = 1, β = 0", lambda: dict(
            x=_values(4, 3, seed=41, std=10, mean=50), running_mean=_vec(45, 55, 50), running_var=_vec(64, 144, 100),
            gamma=_ONES3.clone(), beta=_ZEROS3.clone(), eps=1e-5)),
        Probe("one", "샘플 하나", lambda: dict(
            x=_values(1, 3, seed=42, std=2), running_mean=_values(3, seed=43), running_var=_vec(2, 0.5, 1),
            gamma=_values(3, seed=44, std=0.5, mean=1), beta=_values(3, seed=45), eps=1e-5)),
        Probe("many", "샘플 1000개, 평균 1000 근처", lambda: dict(
            x=_values(1000, 4, seed=46, std=3, mean=1000), running_mean=_vec(999, 1001, 1000, 1002),
            running_var=_vec(9, 4, 16, 1), gamma=_values(4, seed=47, std=0.5, mean=1), beta=_values(4, seed=48),
            eps=1e-5)),
        Probe("zero_var", "running_var가 0인 특성, γ = 1, β = 0", lambda: dict(
            x=_values(5, 3, seed=49), running_mean=_vec(0.5, 0.25, -0.5), running_var=_vec(2, 0, 0.5),
            gamma=_ONES3.clone(), beta=_ZEROS3.clone(), eps=1e-5)),
        Probe("strided", "연속이 아닌(전치한) 입력", lambda: dict(
            x=_transposed(6, 3, seed=50, std=2), running_mean=_values(3, seed=51), running_var=_vec(3, 0.5, 1.5),
            gamma=_values(3, seed=52, std=0.5, mean=1), beta=_values(3, seed=53), eps=1e-5)),
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
            x=_values(2, 3, 1, 2, seed=61, std=2, mean=[5, -3, 0]), gamma=_ONES3.clone(), beta=_ZEROS3.clone(),
            eps=1e-5)),
        Probe("channels_last", "channels_last 메모리 배치, (4, 3, 5, 5), 채널마다 평균이 다름", lambda: dict(
            x=_values(4, 3, 5, 5, seed=62, std=[1, 5, 2], mean=[10, -20, 300]).to(memory_format=torch.channels_last),
            gamma=_values(3, seed=63, std=0.5, mean=1), beta=_values(3, seed=64), eps=1e-5)),
        Probe("constant", "값이 모두 같은 채널, γ = 1, β = 0", lambda: dict(
            x=_values(3, 2, 2, 2, seed=65).index_fill(1, torch.tensor([1]), 4.0), gamma=_vec(1, 1),
            beta=_vec(0, 0), eps=1e-5)),
        Probe("sliced", "연속이 아닌(잘라 낸) 입력, (2, 4, 3, 3)", lambda: dict(
            x=_values(2, 4, 3, 6, seed=66, std=3, mean=1)[..., ::2], gamma=_values(4, seed=67, std=0.5, mean=1),
            beta=_values(4, seed=68), eps=1e-5)),
    ),
    reference=_ref_train, mistakes=known.BATCH_NORM_2D, frozen=("x", "gamma", "beta"))


_GAMMA_BW = _vec(1.5, 0.5, -2.0)

BATCH_NORM_BACKWARD = Exercise(
    "batch_norm_backward", "batch_norm_backward(dy, x, running_mean, running_var, gamma, training, eps=1e-5)",
    ("dx", "dγ", "dβ"), "세 텐서 dx, dgamma, dbeta의 tuple (모양은 차례로 x, gamma, gamma와 같음)",
    probes=(
        Probe("four", "학습 모드, 샘플 4개, 특성 3개", lambda: dict(
            dy=_values(4, 3, seed=81, mean=0.3), x=_values(4, 3, seed=82, std=3, mean=2),
            running_mean=_ZEROS3.clone(), running_var=_ONES3.clone(), gamma=_GAMMA_BW.clone(), training=True,
            eps=1e-5)),
        Probe("two", "학습 모드, 샘플 2개", lambda: dict(
            dy=_values(2, 5, seed=83, mean=-0.2), x=_values(2, 5, seed=84, std=2), running_mean=torch.zeros(5,
            dtype=torch.float64), running_var=torch.ones(5, dtype=torch.float64),
            gamma=_values(5, seed=85, std=0.5, mean=1), training=True, eps=1e-5)),
        Probe("many", "학습 모드, 샘플 64개, 평균 1000 근처", lambda: dict(
            dy=_values(64, 3, seed=86, mean=0.1), x=_values(64, 3, seed=87, std=3, mean=1000),
            running_mean=_ZEROS3.clone(), running_var=_ONES3.clone(), gamma=_GAMMA_BW.clone(), training=True,
            eps=1e-5)),
        Probe("strided", "학습 모드, 연속이 아닌(전치한) x와 dy", lambda: dict(
            dy=_transposed(6, 4, seed=88, mean=0.2), x=_transposed(6, 4, seed=89, std=2),
            running_mean=torch.zeros(4, dtype=torch.float64), running_var=torch.ones(4, dtype=torch.float64),
            gamma=_values(4, seed=90, std=0.5, mean=1), training=True, eps=1e-5)),
        Probe("eval", "평가 모드, 샘플 4개", lambda: dict(
            dy=_values(4, 3, seed=91, mean=0.3), x=_values(4, 3, seed=92, std=3, mean=2),
            running_mean=_vec(1, 0, -1), running_var=_vec(4, 1, 0.25), gamma=_GAMMA_BW.clone(), training=False,
            eps=1e-5)),
        Probe("eval_many", "평가 모드, 샘플 16개, 평균 1000 근처", lambda: dict(
            dy=_values(16, 3, seed=93), x=_values(16, 3, seed=94, std=3, mean=1000),
            running_mean=_vec(999, 1001, 1000), running_var=_vec(9, 4, 16), gamma=_GAMMA_BW.clone(),
            training=False, eps=1e-5)),
    ),
    reference=_ref_backward, mistakes=known.BATCH_NORM_BACKWARD,
    frozen=("dy", "x", "running_mean", "running_var", "gamma"))


GROUP_NORM = Exercise(
    "group_norm", "group_norm(x, num_groups, gamma, beta, eps=1e-5)", ("y",), "x와 모양이 같은 텐서 y",
    probes=(
        Probe("small", "(N, C, H, W) = (2, 4, 1, 2), G = 2, γ = 1, β = 0", lambda: dict(
            x=_values(2, 4, 1, 2, seed=101, std=2, mean=[1, -1, 3, 0]), num_groups=2, gamma=_vec(1, 1, 1, 1),
            beta=_vec(0, 0, 0, 0), eps=1e-5)),
        Probe("six", "(3, 6, 2, 2), G = 3", lambda: dict(
            x=_values(3, 6, 2, 2, seed=102, std=2), num_groups=3, gamma=_values(6, seed=103, std=0.5, mean=1),
            beta=_values(6, seed=104), eps=1e-5)),
        Probe("one", "샘플 하나, (1, 4, 3, 3), G = 2", lambda: dict(
            x=_values(1, 4, 3, 3, seed=105, std=2, mean=[0, 2, -2, 1]), num_groups=2,
            gamma=_values(4, seed=106, std=0.5, mean=1), beta=_values(4, seed=107), eps=1e-5)),
        Probe("far", "(2, 8, 3, 3), G = 4, 평균 1000 근처", lambda: dict(
            x=_values(2, 8, 3, 3, seed=108, std=3, mean=[1000, 1005, 995, 1000, 1010, 990, 1000, 1002]), num_groups=4,
            gamma=_values(8, seed=109, std=0.5, mean=1), beta=_values(8, seed=110), eps=1e-5)),
        Probe("constant", "값이 모두 같은 묶음, G = 2, γ = 1, β = 0", lambda: dict(
            x=_values(2, 4, 2, 2, seed=111).index_fill(1, torch.tensor([0, 1]), 3.0), num_groups=2,
            gamma=_vec(1, 1, 1, 1), beta=_vec(0, 0, 0, 0), eps=1e-5)),
        Probe("channels_last", "channels_last 메모리 배치, (2, 6, 3, 3), G = 2", lambda: dict(
            x=_values(2, 6, 3, 3, seed=112, std=2, mean=1).to(memory_format=torch.channels_last), num_groups=2,
            gamma=_values(6, seed=113, std=0.5, mean=1), beta=_values(6, seed=114), eps=1e-5)),
    ),
    reference=_ref_group_norm, mistakes=known.GROUP_NORM, frozen=("x", "gamma", "beta"))
