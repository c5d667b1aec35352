"""배치 정규화를 직접 구현할 때 흔히 하는 실수들: 실수마다 그 실수를 한 구현 하나.

:mod:`bnref.course.check`는 독자의 함수를 여러 입력으로 실행한 뒤, 출력이 bnref와 다르면 여기
있는 구현들을 **같은 입력으로** 실행해 봅니다. 모든 입력에서 독자의 출력과 (허용 오차 안에서) 같은
구현이 있으면 그 실수의 이름을 댑니다. 짐작이 아니라 증거로 진단하는 것입니다.

각 구현은 독자가 쓸 법한 모양 그대로 썼고, 틀린 줄에는 ``# 실수:`` 주석을 달았습니다. 실수마다
:class:`Mistake` 하나가 무엇이 틀렸는지(``what``), 어떻게 고치는지(``fix``), 그리고 독자의 출력에서
그 실수를 보여 주는 숫자(``evidence``)를 함께 들고 있습니다. 숫자를 보여 줄 입력(``shown_on``)은
:mod:`bnref.course.check`의 입력 이름입니다.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from bnref.course.printing import fmt

__all__ = ["Mistake", "BATCH_NORM_TRAIN", "UPDATE_RUNNING_STATS", "BATCH_NORM_EVAL", "BATCH_NORM_2D",
           "BATCH_NORM_BACKWARD", "GROUP_NORM"]


@dataclass(frozen=True)
class Mistake:
    """알려진 실수 하나.

    Args:
        key: 실수의 이름 (``CheckResult.mistake``), 예: ``"unbiased_var"``
        what: 무엇이 틀렸는지, 한 문장
        fix: 어떻게 고치는지
        variant: 그 실수를 한 구현. 연습 문제의 함수와 시그니처가 같습니다.
        shown_on: 근거의 숫자를 보여 줄 입력의 이름
        evidence: ``(inputs, got, want) -> str``. 그 입력에서 독자의 출력(got)과 bnref의 출력(want)으로
            실수를 보여 주는 문장. got, want는 출력 텐서들의 tuple입니다.
    """

    key: str
    what: str
    fix: str
    variant: Callable
    shown_on: str
    evidence: Callable[[dict, tuple, tuple], str]


def _shape(t) -> str:
    return str(tuple(t.shape))


# ================================================================ 1. 학습 모드의 배치 정규화 (N, C)
# batch_norm_train(x, gamma, beta, eps=1e-5) -> y
def _train_unbiased(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    var = x.var(dim=0)  # 실수: var()의 기본값은 불편 분산 (n − 1로 나눔)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta


def _train_no_eps(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=False)
    return gamma * (x - mean) / torch.sqrt(var) + beta  # 실수: ε이 없음


def _train_eps_outside(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    std = x.std(dim=0, unbiased=False)
    return gamma * (x - mean) / (std + eps) + beta  # 실수: ε을 제곱근 밖에서 더함


def _train_no_sqrt(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=False)
    return gamma * (x - mean) / (var + eps) + beta  # 실수: 제곱근 없이 분산으로 나눔


def _train_per_sample(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=1, keepdim=True)  # 실수: 샘플마다 (dim=1)
    var = x.var(dim=1, unbiased=False, keepdim=True)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta


def _train_mean_kept(x, gamma, beta, eps=1e-5):
    var = x.var(dim=0, unbiased=False)
    return gamma * x / torch.sqrt(var + eps) + beta  # 실수: 평균을 빼지 않음


def _train_swapped(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=False)
    return beta * (x - mean) / torch.sqrt(var + eps) + gamma  # 실수: γ와 β가 바뀜


def _train_no_gamma(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps) + beta  # 실수: γ를 곱하지 않음


def _output_var(got) -> str:
    """출력의 분산 (n으로 나눔), 특성마다 평균."""
    return fmt(got[0].var(dim=0, unbiased=False).mean())


BATCH_NORM_TRAIN = (
    Mistake(
        "unbiased_var", "정규화에 불편 분산(n−1로 나눈 분산)을 썼습니다.",
        "정규화에는 편향 분산(n으로 나눈 분산)을 씁니다: x.var(dim=0, unbiased=False)",
        _train_unbiased, "four",
        lambda inputs, got, want: f"샘플 4개인 입력에서 출력의 분산이 1이 아니라 {_output_var(got)}입니다. "
                                  "(n−1)/n = 3/4배로 줄었습니다."),
    Mistake(
        "no_eps", "분산에 ε을 더하지 않았습니다.",
        "torch.sqrt(var + eps)처럼 분산에 ε을 더한 뒤 제곱근을 구하세요.",
        _train_no_eps, "tiny",
        lambda inputs, got, want: f"값이 모두 같은 특성(분산 0)의 출력이 0이 아니라 {fmt(got[0][:4, 2])}입니다. "
                                  "ε이 없어서 0/0을 계산했습니다."),
    Mistake(
        "eps_outside_sqrt", "ε을 제곱근 밖에서 더했습니다: (x − 평균) / (√분산 + ε).",
        "ε은 제곱근 안에서 분산에 더합니다: torch.sqrt(var + eps)",
        _train_eps_outside, "tiny",
        lambda inputs, got, want: "분산이 ε과 같은 특성에서 출력의 표준편차가 √(1/2) ≈ 0.7071이 아니라 "
                                  f"{fmt(got[0][:, 0].std(unbiased=False))}입니다."),
    Mistake(
        "no_sqrt", "표준편차가 아니라 분산으로 나눴습니다. 제곱근이 빠졌습니다.",
        "torch.sqrt(var + eps)로 나누세요.",
        _train_no_sqrt, "four",
        lambda inputs, got, want: "샘플 4개인 입력에서 특성마다 출력의 표준편차가 1이 아니라 "
                                  f"{fmt(got[0].std(dim=0, unbiased=False))}입니다."),
    Mistake(
        "wrong_dim", "통계를 특성마다(dim=0)가 아니라 샘플마다(dim=1) 냈습니다.",
        "평균과 분산은 샘플 방향인 dim=0을 따라 구합니다: x.mean(dim=0)",
        _train_per_sample, "four",
        lambda inputs, got, want: "샘플 4개인 입력에서 특성마다 낸 출력 평균이 0이 아니라 "
                                  f"{fmt(got[0].mean(dim=0))}입니다."),
    Mistake(
        "mean_not_subtracted", "평균을 빼지 않고 표준편차로 나누기만 했습니다.",
        "먼저 평균을 빼세요: (x - mean) / torch.sqrt(var + eps)",
        _train_mean_kept, "many",
        lambda inputs, got, want: "평균이 1000 근처인 입력에서 특성마다 (출력 평균 − β)가 0이 아니라 "
                                  f"{fmt(got[0].mean(dim=0) - inputs['beta'])}입니다."),
    Mistake(
        "gamma_beta_swapped", "γ와 β를 바꿔 썼습니다: y = β·x̂ + γ.",
        "y = gamma * x_hat + beta: γ는 곱하고 β는 더합니다.",
        _train_swapped, "four",
        lambda inputs, got, want: "γ = 1, β = 0인 입력에서 출력이 x̂이 아니라 모두 "
                                  f"{fmt(got[0][0, 0])}입니다."),
    Mistake(
        "no_gamma", "정규화한 값에 γ를 곱하지 않았습니다: y = x̂ + β.",
        "y = gamma * x_hat + beta: γ를 곱한 뒤 β를 더합니다.",
        _train_no_gamma, "two",
        lambda inputs, got, want: f"γ ≠ 1인 입력에서 특성마다 출력의 표준편차: 기대 |γ| = {fmt(inputs['gamma'].abs())}, "
                                  f"받은 값 {fmt(got[0].std(dim=0, unbiased=False))}."),
)


# ================================================================ 2. 이동 통계 갱신
# update_running_stats(x, running_mean, running_var, momentum=0.1) -> (running_mean, running_var)
def _running_biased(x, running_mean, running_var, momentum=0.1):
    new_mean = (1 - momentum) * running_mean + momentum * x.mean(dim=0)
    new_var = (1 - momentum) * running_var + momentum * x.var(dim=0, unbiased=False)  # 실수: 편향 분산
    return new_mean, new_var


def _running_reversed(x, running_mean, running_var, momentum=0.1):
    new_mean = momentum * running_mean + (1 - momentum) * x.mean(dim=0)  # 실수: 몫이 뒤바뀜
    new_var = momentum * running_var + (1 - momentum) * x.var(dim=0)
    return new_mean, new_var


def _running_replaced(x, running_mean, running_var, momentum=0.1):
    return x.mean(dim=0), x.var(dim=0)  # 실수: 이전 값을 버림


def _running_mean_only(x, running_mean, running_var, momentum=0.1):
    new_mean = (1 - momentum) * running_mean + momentum * x.mean(dim=0)
    return new_mean, running_var  # 실수: running_var를 갱신하지 않음


UPDATE_RUNNING_STATS = (
    Mistake(
        "biased_running_var", "running_var에 편향 분산(n으로 나눈 분산)을 넣었습니다.",
        "이동 분산에는 불편 분산(n−1로 나눈 분산)을 씁니다: x.var(dim=0)",
        _running_biased, "first",
        lambda inputs, got, want: f"처음 값 1에서 샘플 4개로 한 번 갱신한 running_var: 기대 {fmt(want[1])}, "
                                  f"받은 값 {fmt(got[1])}. 새로 더한 몫(값 − 0.9)이 기대의 "
                                  f"{fmt(((got[1] - 0.9) / (want[1] - 0.9)).mean())}배, 곧 (n−1)/n = 3/4배입니다."),
    Mistake(
        "momentum_reversed", "momentum과 1 − momentum의 자리가 바뀌었습니다. 새 배치 통계에 1 − momentum을 곱했습니다.",
        "torch의 momentum은 새 값의 몫입니다: (1 - momentum) * running_mean + momentum * mean",
        _running_reversed, "first",
        lambda inputs, got, want: f"처음 값 0에서 한 번 갱신한 running_mean: 기대 0.1 × 배치 평균 = {fmt(want[0])}, "
                                  f"받은 값 {fmt(got[0])} = 0.9 × 배치 평균."),
    Mistake(
        "running_replaced", "이전 값을 버리고 배치 통계를 그대로 넣었습니다.",
        "이전 값과 섞으세요: (1 - momentum) * running_mean + momentum * mean",
        _running_replaced, "first",
        lambda inputs, got, want: f"처음 값 0에서 한 번 갱신한 running_mean: 기대 0.1 × 배치 평균 = {fmt(want[0])}, "
                                  f"받은 값 {fmt(got[0])} = 배치 평균."),
    Mistake(
        "running_var_not_updated", "running_mean만 갱신하고 running_var는 그대로 돌려줬습니다.",
        "running_var도 같은 식으로 섞으세요: (1 - momentum) * running_var + momentum * x.var(dim=0)",
        _running_mean_only, "first",
        lambda inputs, got, want: f"처음 값 1에서 샘플 4개로 한 번 갱신한 running_var: 기대 {fmt(want[1])}, "
                                  f"받은 값 {fmt(got[1])}(처음 값 그대로)."),
)


# ================================================================ 3. 평가 모드
# batch_norm_eval(x, running_mean, running_var, gamma, beta, eps=1e-5) -> y
def _eval_batch_stats(x, running_mean, running_var, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0)  # 실수: 평가 모드인데 배치 통계
    var = x.var(dim=0, unbiased=False)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta


def _eval_updates(x, running_mean, running_var, gamma, beta, eps=1e-5):
    running_mean = 0.9 * running_mean + 0.1 * x.mean(dim=0)  # 실수: 평가 모드에서 갱신
    running_var = 0.9 * running_var + 0.1 * x.var(dim=0)
    return gamma * (x - running_mean) / torch.sqrt(running_var + eps) + beta


def _eval_no_eps(x, running_mean, running_var, gamma, beta, eps=1e-5):
    return gamma * (x - running_mean) / torch.sqrt(running_var) + beta  # 실수: ε이 없음


def _eval_eps_outside(x, running_mean, running_var, gamma, beta, eps=1e-5):
    return gamma * (x - running_mean) / (torch.sqrt(running_var) + eps) + beta  # 실수: ε을 제곱근 밖에서 더함


def _eval_no_sqrt(x, running_mean, running_var, gamma, beta, eps=1e-5):
    return gamma * (x - running_mean) / (running_var + eps) + beta  # 실수: 제곱근이 없음


def _eval_swapped(x, running_mean, running_var, gamma, beta, eps=1e-5):
    return beta * (x - running_mean) / torch.sqrt(running_var + eps) + gamma  # 실수: γ와 β가 바뀜


BATCH_NORM_EVAL = (
    Mistake(
        "batch_stats_in_eval", "평가 모드인데 이 배치의 평균과 분산으로 정규화했습니다.",
        "평가 모드에서는 running_mean과 running_var로 정규화하고, 배치의 통계는 쓰지 않습니다.",
        _eval_batch_stats, "one",
        lambda inputs, got, want: f"샘플 하나를 넣었더니 출력이 β와 같습니다: 받은 값 {fmt(got[0][0])}, "
                                  f"β = {fmt(inputs['beta'])}. 이동 통계로 정규화하면 {fmt(want[0][0])}입니다."),
    Mistake(
        "updates_running_in_eval", "평가 모드에서 이동 통계를 갱신했습니다.",
        "평가 모드에서는 running_mean과 running_var를 읽기만 하고 바꾸지 않습니다.",
        _eval_updates, "four",
        lambda inputs, got, want: "출력이 이 배치로 이동 통계를 한 번 갱신한 뒤(momentum 0.1) 정규화한 값과 "
                                  f"같습니다: y[0] 기대 {fmt(want[0][0])}, 받은 값 {fmt(got[0][0])}."),
    Mistake(
        "no_eps", "running_var에 ε을 더하지 않았습니다.",
        "torch.sqrt(running_var + eps)로 나누세요.",
        _eval_no_eps, "zero_var",
        lambda inputs, got, want: f"running_var가 0인 특성의 출력: 기대 {fmt(want[0][:3, 1])}, "
                                  f"받은 값 {fmt(got[0][:3, 1])}."),
    Mistake(
        "eps_outside_sqrt", "ε을 제곱근 밖에서 더했습니다: (x − running_mean) / (√running_var + ε).",
        "ε은 제곱근 안에서 running_var에 더합니다: torch.sqrt(running_var + eps)",
        _eval_eps_outside, "zero_var",
        lambda inputs, got, want: f"running_var가 0인 특성의 출력: 기대 {fmt(want[0][:3, 1])}(1/√ε배), "
                                  f"받은 값 {fmt(got[0][:3, 1])}(1/ε배)."),
    Mistake(
        "no_sqrt", "표준편차가 아니라 running_var 자체로 나눴습니다. 제곱근이 빠졌습니다.",
        "torch.sqrt(running_var + eps)로 나누세요.",
        _eval_no_sqrt, "four",
        lambda inputs, got, want: "running_var = [64, 144, 100]인 입력에서 출력이 특성마다 기대값의 "
                                  f"{fmt(got[0][0] / want[0][0])}배입니다. 곧 1/√running_var배입니다."),
    Mistake(
        "gamma_beta_swapped", "γ와 β를 바꿔 썼습니다: y = β·x̂ + γ.",
        "y = gamma * x_hat + beta: γ는 곱하고 β는 더합니다.",
        _eval_swapped, "four",
        lambda inputs, got, want: "γ = 1, β = 0인 입력에서 출력이 x̂이 아니라 모두 "
                                  f"{fmt(got[0][0, 0])}입니다."),
)


# ================================================================ 4. BatchNorm2d (N, C, H, W)
# batch_norm_2d(x, gamma, beta, eps=1e-5) -> y
def _affine_2d(x_hat, gamma, beta):
    return gamma.view(1, -1, 1, 1) * x_hat + beta.view(1, -1, 1, 1)


def _2d_per_pixel(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=0, keepdim=True)  # 실수: 위치마다 (샘플 방향만 줄임)
    var = x.var(dim=0, unbiased=False, keepdim=True)
    return _affine_2d((x - mean) / torch.sqrt(var + eps), gamma, beta)


def _2d_per_sample_channel(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=(2, 3), keepdim=True)  # 실수: 샘플 하나, 채널 하나마다
    var = x.var(dim=(2, 3), unbiased=False, keepdim=True)
    return _affine_2d((x - mean) / torch.sqrt(var + eps), gamma, beta)


def _2d_per_sample(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # 실수: 샘플마다
    var = x.var(dim=(1, 2, 3), unbiased=False, keepdim=True)
    return _affine_2d((x - mean) / torch.sqrt(var + eps), gamma, beta)


def _2d_unbiased(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = x.var(dim=(0, 2, 3), keepdim=True)  # 실수: 불편 분산
    return _affine_2d((x - mean) / torch.sqrt(var + eps), gamma, beta)


def _2d_no_eps(x, gamma, beta, eps=1e-5):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    return _affine_2d((x - mean) / torch.sqrt(var), gamma, beta)  # 실수: ε이 없음


_2D_FIX = "채널마다 N, H, W의 값을 모두 모읍니다: x.mean(dim=(0, 2, 3), keepdim=True)"

BATCH_NORM_2D = (
    Mistake(
        "per_pixel", "통계를 채널마다가 아니라 위치(픽셀)마다 냈습니다. 샘플 방향(dim=0)으로만 줄였습니다.",
        _2D_FIX, _2d_per_pixel, "small",
        lambda inputs, got, want: "채널 0의 위치마다 낸 출력 평균: "
                                  f"기대 {fmt(want[0][:, 0].mean(dim=0).flatten())}, "
                                  f"받은 값 {fmt(got[0][:, 0].mean(dim=0).flatten())}."),
    Mistake(
        "per_sample_channel", "통계를 샘플 하나, 채널 하나마다 냈습니다(인스턴스 정규화). dim=(2, 3)만 줄였습니다.",
        _2D_FIX, _2d_per_sample_channel, "small",
        lambda inputs, got, want: "채널 0의 샘플마다 낸 출력 평균: "
                                  f"기대 {fmt(want[0][:, 0].mean(dim=(1, 2)))}, "
                                  f"받은 값 {fmt(got[0][:, 0].mean(dim=(1, 2)))}."),
    Mistake(
        "per_sample", "통계를 채널마다가 아니라 샘플마다 냈습니다(층 정규화). dim=(1, 2, 3)을 줄였습니다.",
        _2D_FIX, _2d_per_sample, "small",
        lambda inputs, got, want: "샘플마다 낸 출력 평균: "
                                  f"기대 {fmt(want[0].mean(dim=(1, 2, 3)))}, "
                                  f"받은 값 {fmt(got[0].mean(dim=(1, 2, 3)))}."),
    Mistake(
        "unbiased_var", "정규화에 불편 분산(n−1로 나눈 분산)을 썼습니다.",
        "정규화에는 편향 분산(n으로 나눈 분산)을 씁니다: x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)",
        _2d_unbiased, "small",
        lambda inputs, got, want: "채널마다 값이 n = N·H·W = 4개인 입력에서 출력의 분산이 1이 아니라 "
                                  f"{fmt(got[0].var(dim=(0, 2, 3), unbiased=False).mean())}입니다. "
                                  "(n−1)/n = 3/4배로 줄었습니다."),
    Mistake(
        "no_eps", "분산에 ε을 더하지 않았습니다.",
        "torch.sqrt(var + eps)처럼 분산에 ε을 더한 뒤 제곱근을 구하세요.",
        _2d_no_eps, "constant",
        lambda inputs, got, want: "값이 모두 같은 채널(분산 0)의 출력이 0이 아니라 "
                                  f"{fmt(got[0][0, 1].flatten())}입니다. ε이 없어서 0/0을 계산했습니다."),
)


# ================================================================ 5. 역전파 (N, C)
# batch_norm_backward(dy, x, running_mean, running_var, gamma, training, eps=1e-5) -> (dx, dgamma, dbeta)
def _x_hat(x, running_mean, running_var, training, eps):
    """학습 모드면 배치 통계, 평가 모드면 이동 통계로 x̂과 1/√(분산 + ε)."""
    if training:
        mean, var = x.mean(dim=0), x.var(dim=0, unbiased=False)
    else:
        mean, var = running_mean, running_var
    invstd = 1 / torch.sqrt(var + eps)
    return (x - mean) * invstd, invstd


def _bw_no_mean_term(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    x_hat, invstd = _x_hat(x, running_mean, running_var, training, eps)
    dgamma, dbeta = (dy * x_hat).sum(dim=0), dy.sum(dim=0)
    if not training:
        return gamma * invstd * dy, dgamma, dbeta
    n = x.shape[0]
    return gamma * invstd / n * (n * dy - x_hat * dgamma), dgamma, dbeta  # 실수: −Σdy 항이 없음


def _bw_no_var_term(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    x_hat, invstd = _x_hat(x, running_mean, running_var, training, eps)
    dgamma, dbeta = (dy * x_hat).sum(dim=0), dy.sum(dim=0)
    if not training:
        return gamma * invstd * dy, dgamma, dbeta
    n = x.shape[0]
    return gamma * invstd / n * (n * dy - dbeta), dgamma, dbeta  # 실수: −x̂·Σ(dy·x̂) 항이 없음


def _bw_eval_formula_in_train(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    x_hat, invstd = _x_hat(x, running_mean, running_var, training, eps)
    dgamma, dbeta = (dy * x_hat).sum(dim=0), dy.sum(dim=0)
    return gamma * invstd * dy, dgamma, dbeta  # 실수: 학습 모드에서도 평균과 분산을 상수로 봄


def _bw_no_gamma(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    x_hat, invstd = _x_hat(x, running_mean, running_var, training, eps)
    dgamma, dbeta = (dy * x_hat).sum(dim=0), dy.sum(dim=0)
    if not training:
        return invstd * dy, dgamma, dbeta  # 실수: γ가 없음
    n = x.shape[0]
    return invstd / n * (n * dy - dbeta - x_hat * dgamma), dgamma, dbeta  # 실수: γ가 없음


def _bw_dgamma_wrong_dim(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    x_hat, invstd = _x_hat(x, running_mean, running_var, training, eps)
    dgamma, dbeta = (dy * x_hat).sum(dim=0), dy.sum(dim=0)
    dx = gamma * invstd * dy
    if training:
        n = x.shape[0]
        dx = gamma * invstd / n * (n * dy - dbeta - x_hat * dgamma)
    return dx, (dy * x_hat).sum(dim=1), dbeta  # 실수: dγ를 샘플마다 (dim=1) 더함


def _bw_train_formula_in_eval(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    x_hat, invstd = _x_hat(x, running_mean, running_var, training, eps)
    dgamma, dbeta = (dy * x_hat).sum(dim=0), dy.sum(dim=0)
    n = x.shape[0]
    return gamma * invstd / n * (n * dy - dbeta - x_hat * dgamma), dgamma, dbeta  # 실수: 평가 모드에도 이 식


def _bw_batch_stats_in_eval(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    x_hat, invstd = _x_hat(x, running_mean, running_var, True, eps)  # 실수: training을 보지 않음
    dgamma, dbeta = (dy * x_hat).sum(dim=0), dy.sum(dim=0)
    n = x.shape[0]
    return gamma * invstd / n * (n * dy - dbeta - x_hat * dgamma), dgamma, dbeta


_BACKWARD_FIX = "학습 모드의 dx는 세 항입니다: dx = γ·invstd/n · (n·dy − Σdy − x̂·Σ(dy·x̂))"

BATCH_NORM_BACKWARD = (
    Mistake(
        "no_mean_term", "dx에서 평균을 거쳐 오는 항(−Σdy)이 빠졌습니다.", _BACKWARD_FIX,
        _bw_no_mean_term, "four",
        lambda inputs, got, want: f"학습 모드에서 특성마다 dx의 합이 0이 아니라 {fmt(got[0].sum(dim=0))}입니다. "
                                  "모든 입력을 같은 양만큼 옮겨도 출력이 그대로이므로 이 합은 0이어야 합니다."),
    Mistake(
        "no_var_term", "dx에서 분산을 거쳐 오는 항(−x̂·Σ(dy·x̂))이 빠졌습니다.", _BACKWARD_FIX,
        _bw_no_var_term, "four",
        lambda inputs, got, want: "학습 모드에서 특성마다 dx·x̂의 합이 0이 아니라 "
                                  f"{fmt((got[0] * _x_hat(inputs['x'], None, None, True, 1e-5)[0]).sum(dim=0))}"
                                  "입니다. 모든 입력을 평균을 중심으로 같은 비율로 늘려도 출력이 그대로이므로 "
                                  "이 합은 0이어야 합니다."),
    Mistake(
        "eval_formula_in_train", "학습 모드에서 평균과 분산을 상수로 보고 dx = γ·dy/√(분산 + ε)만 구했습니다.",
        "학습 모드의 평균과 분산은 x에 달려 있습니다: dx = γ·invstd/n · (n·dy − Σdy − x̂·Σ(dy·x̂))",
        _bw_eval_formula_in_train, "four",
        lambda inputs, got, want: f"학습 모드에서 특성마다 dx의 합이 0이 아니라 {fmt(got[0].sum(dim=0))}입니다."),
    Mistake(
        "no_gamma_in_dx", "dx에 γ를 곱하지 않았습니다.",
        "x̂의 기울기는 γ·dy입니다: dx = γ·invstd/n · (n·dy − Σdy − x̂·Σ(dy·x̂))",
        _bw_no_gamma, "four",
        lambda inputs, got, want: f"γ = {fmt(inputs['gamma'])}인 입력에서 dx가 특성마다 기대값의 "
                                  f"{fmt((got[0] / want[0])[0])}배, 곧 1/γ배입니다."),
    Mistake(
        "dgamma_wrong_dim", "dγ를 특성마다가 아니라 샘플마다(dim=1) 더했습니다.",
        "dγ는 샘플 방향으로 더합니다: (dy * x_hat).sum(dim=0)",
        _bw_dgamma_wrong_dim, "four",
        lambda inputs, got, want: f"dγ의 모양: 기대 {_shape(want[1])}, 받은 값 {_shape(got[1])}."),
    Mistake(
        "train_formula_in_eval", "평가 모드에 학습 모드의 dx 식을 썼습니다.",
        "평가 모드에서는 평균과 분산이 상수이므로 dx = γ·dy/√(running_var + ε)입니다.",
        _bw_train_formula_in_eval, "eval",
        lambda inputs, got, want: f"평가 모드의 dx[0]: 기대 γ·dy/√(running_var + ε) = {fmt(want[0][0])}, "
                                  f"받은 값 {fmt(got[0][0])}."),
    Mistake(
        "batch_stats_in_eval", "평가 모드인데 배치의 평균과 분산으로 학습 모드의 기울기를 구했습니다.",
        "평가 모드에서는 running_mean과 running_var로 x̂을 만들고, dx = γ·dy/√(running_var + ε)입니다.",
        _bw_batch_stats_in_eval, "eval",
        lambda inputs, got, want: f"평가 모드에서 특성마다 dx의 합: 기대 {fmt(want[0].sum(dim=0))}, "
                                  f"받은 값 {fmt(got[0].sum(dim=0))}. 합이 0인 것은 학습 모드의 기울기입니다."),
)


# ================================================================ 6. 그룹 정규화 (N, C, H, W)
# group_norm(x, num_groups, gamma, beta, eps=1e-5) -> y
def _gn_across_batch(x, num_groups, gamma, beta, eps=1e-5):
    N, C, H, W = x.shape
    groups = x.reshape(N, num_groups, -1)
    mean = groups.mean(dim=(0, 2), keepdim=True)  # 실수: 배치 전체에서
    var = groups.var(dim=(0, 2), unbiased=False, keepdim=True)
    return _affine_2d(((groups - mean) / torch.sqrt(var + eps)).reshape(N, C, H, W), gamma, beta)


def _gn_interleaved(x, num_groups, gamma, beta, eps=1e-5):
    N, C, H, W = x.shape
    groups = x.reshape(N, C // num_groups, num_groups, H * W)  # 실수: 묶음 축이 뒤에
    mean = groups.mean(dim=(1, 3), keepdim=True)
    var = groups.var(dim=(1, 3), unbiased=False, keepdim=True)
    return _affine_2d(((groups - mean) / torch.sqrt(var + eps)).reshape(N, C, H, W), gamma, beta)


def _gn_one_group(x, num_groups, gamma, beta, eps=1e-5):
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # 실수: num_groups를 쓰지 않음
    var = x.var(dim=(1, 2, 3), unbiased=False, keepdim=True)
    return _affine_2d((x - mean) / torch.sqrt(var + eps), gamma, beta)


def _gn_per_channel(x, num_groups, gamma, beta, eps=1e-5):
    mean = x.mean(dim=(2, 3), keepdim=True)  # 실수: 채널마다
    var = x.var(dim=(2, 3), unbiased=False, keepdim=True)
    return _affine_2d((x - mean) / torch.sqrt(var + eps), gamma, beta)


def _gn_unbiased(x, num_groups, gamma, beta, eps=1e-5):
    N, C, H, W = x.shape
    groups = x.reshape(N, num_groups, -1)
    mean = groups.mean(dim=2, keepdim=True)
    var = groups.var(dim=2, keepdim=True)  # 실수: 불편 분산
    return _affine_2d(((groups - mean) / torch.sqrt(var + eps)).reshape(N, C, H, W), gamma, beta)


def _gn_no_eps(x, num_groups, gamma, beta, eps=1e-5):
    N, C, H, W = x.shape
    groups = x.reshape(N, num_groups, -1)
    mean = groups.mean(dim=2, keepdim=True)
    var = groups.var(dim=2, unbiased=False, keepdim=True)
    return _affine_2d(((groups - mean) / torch.sqrt(var)).reshape(N, C, H, W), gamma, beta)  # 실수: ε이 없음


def _group_means(y, groups):
    """(N, C, H, W) -> (N, G): 샘플마다·묶음마다 출력 평균 (묶음 = 이웃한 C/G개 채널)."""
    return y.reshape(y.shape[0], groups, -1).mean(dim=2)


_GN_FIX = "x.reshape(N, G, -1)처럼 샘플마다 이웃한 C/G개 채널을 한 줄로 모아, 그 줄마다 평균과 분산을 구하세요."

GROUP_NORM = (
    Mistake(
        "group_across_batch", "통계를 샘플마다 따로 내지 않고 배치 전체에서 냈습니다.",
        "그룹 정규화의 통계는 샘플 하나 안에서만 냅니다. " + _GN_FIX,
        _gn_across_batch, "small",
        lambda inputs, got, want: "샘플마다·묶음마다 낸 출력 평균이 0이 아니라 "
                                  f"{fmt(_group_means(got[0], 2).flatten())}입니다."),
    Mistake(
        "groups_interleaved", "채널을 묶는 방법이 틀렸습니다. C = 4, G = 2일 때 채널 (0, 1), (2, 3)이 아니라 "
                              "(0, 2), (1, 3)을 한 묶음으로 모았습니다.",
        "묶음 축을 채널 축의 앞쪽에 두세요: x.reshape(N, G, C // G, H, W)",
        _gn_interleaved, "small",
        lambda inputs, got, want: "C = 4, G = 2인 입력에서 샘플마다·묶음마다 낸 출력 평균이 0이 아니라 "
                                  f"{fmt(_group_means(got[0], 2).flatten())}입니다."),
    Mistake(
        "groups_ignored", "num_groups를 쓰지 않고 샘플의 모든 채널을 한 묶음으로 정규화했습니다(층 정규화).",
        _GN_FIX, _gn_one_group, "small",
        lambda inputs, got, want: "G = 2인 입력에서 샘플마다·묶음마다 낸 출력 평균이 0이 아니라 "
                                  f"{fmt(_group_means(got[0], 2).flatten())}입니다."),
    Mistake(
        "group_per_channel", "채널 하나씩 따로 정규화했습니다(인스턴스 정규화).",
        _GN_FIX, _gn_per_channel, "small",
        lambda inputs, got, want: "샘플 0의 채널마다 낸 출력 평균: "
                                  f"기대 {fmt(want[0][0].mean(dim=(1, 2)))}, "
                                  f"받은 값 {fmt(got[0][0].mean(dim=(1, 2)))}."),
    Mistake(
        "unbiased_var", "정규화에 불편 분산(n−1로 나눈 분산)을 썼습니다.",
        "정규화에는 편향 분산(n으로 나눈 분산)을 씁니다: var(dim=2, unbiased=False, keepdim=True)",
        _gn_unbiased, "small",
        lambda inputs, got, want: "묶음 하나에 값이 4개인 입력에서 출력의 분산이 1이 아니라 "
                                  f"{fmt(got[0].reshape(2, 2, -1).var(dim=2, unbiased=False).mean())}입니다. "
                                  "(n−1)/n = 3/4배로 줄었습니다."),
    Mistake(
        "no_eps", "분산에 ε을 더하지 않았습니다.",
        "torch.sqrt(var + eps)처럼 분산에 ε을 더한 뒤 제곱근을 구하세요.",
        _gn_no_eps, "constant",
        lambda inputs, got, want: "값이 모두 같은 묶음(분산 0)의 출력이 0이 아니라 "
                                  f"{fmt(got[0][0, 0].flatten())}입니다. ε이 없어서 0/0을 계산했습니다."),
)
