"""강의 7·11의 측정 도구: 학습한 모델 속을 들여다보는 작은 함수들.

모두 모델을 바꾸지 않습니다. 파라미터, 이동 통계, ``.grad``, 학습/평가 모드가 부르기 전과 같습니다.

- :func:`layer_inputs`: 평가 모드로 데이터를 흘려, 주어진 종류의 층마다 그 층이 받은 입력.
- :func:`population_stats`: 배치 정규화 층마다, 데이터 전체를 한 배치로 본 입력의 평균과 분산
  (모집단 통계). 이동 통계와 비교할 값입니다.
- :func:`dead_relu_fraction`: ReLU 층마다, 주어진 모든 샘플에서 입력이 0 이하인(죽은) 뉴런의 비율.
- :func:`weights_feeding_bn`: 배치 정규화 바로 앞 층의 가중치 (스케일 불변인 가중치).
- :func:`effective_lr`: 스케일 불변인 가중치의 유효 학습률 η/‖w‖².
- :func:`weight_grad_norms`: 학습 모드의 미니배치 하나에서, 층마다 가중치 기울기의 크기.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["dead_relu_fraction", "effective_lr", "layer_inputs", "population_stats",
           "weight_grad_norms", "weights_feeding_bn"]

def _is_batch_norm(module) -> bool:
    """bnref의 BatchNorm1d/2d/3d와 torch의 BatchNorm (SyncBatchNorm 포함)."""
    from bnref.modules import _BatchNorm

    return isinstance(module, (_BatchNorm, nn.modules.batchnorm._BatchNorm))


@torch.no_grad()
def layer_inputs(model: nn.Module, x: torch.Tensor, kind) -> list[torch.Tensor]:
    """평가 모드로 ``x``를 흘려, ``kind`` (모듈 클래스 또는 ``module -> bool`` 함수)에 맞는 층마다
    그 층이 받은 입력을 순서대로 돌려줍니다. 모델의 모드는 되돌려 놓습니다.

    >>> model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1), nn.ReLU())
    >>> [tuple(t.shape) for t in layer_inputs(model, torch.zeros(5, 3), nn.ReLU)]
    [(5, 2), (5, 1)]
    """
    match = kind if not isinstance(kind, type) else (lambda m: isinstance(m, kind))
    seen, handles = [], []
    for m in model.modules():
        if match(m):
            handles.append(m.register_forward_pre_hook(lambda mod, args: seen.append(args[0].detach())))
    was_training = model.training
    try:
        model.eval()(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return seen


def population_stats(model: nn.Module, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """배치 정규화 층마다 (평균, 분산): ``x`` 전체를 한 배치로 보고 그 층이 받은 입력의 특성별
    평균과 편향 분산(n으로 나눈 분산). 평가 모드로 흘리므로 이동 통계는 바뀌지 않습니다.

    Ioffe와 Szegedy(2015)가 "정규화를 되돌리는" γ, β를 말할 때 쓴 E[x], Var[x]가 이 값입니다
    (그들의 모집단은 학습 데이터 전체). 입력이 (N, C, ...)이면 채널마다 N과 공간 방향을 모읍니다.

    >>> bn = nn.BatchNorm1d(2)
    >>> [(m.tolist(), v.tolist()) for m, v in population_stats(nn.Sequential(bn), torch.tensor([[1.0, 0.0], [3.0, 0.0]]))]
    [([2.0, 0.0], [1.0, 0.0])]
    """
    stats = []
    for h in layer_inputs(model, x, _is_batch_norm):
        dims = [0, *range(2, h.dim())]
        stats.append((h.mean(dims), h.var(dims, correction=0)))
    return stats


def dead_relu_fraction(model: nn.Module, x: torch.Tensor) -> list[float]:
    """ReLU 층마다, ``x``의 모든 샘플에서 입력이 0 이하인 뉴런(특성)의 비율.

    이런 뉴런은 출력이 언제나 0이고 기울기도 0이라서, 그 앞의 가중치가 다시는 바뀌지 않습니다
    (죽은 ReLU). 평가 모드로 잽니다.

    >>> layer = nn.Linear(2, 4)
    >>> with torch.no_grad():
    ...     _ = layer.weight.zero_(), layer.bias.copy_(torch.tensor([-1.0, -1.0, -1.0, 1.0]))
    >>> dead_relu_fraction(nn.Sequential(layer, nn.ReLU()), torch.randn(10, 2))
    [0.75]
    """
    fractions = []
    for h in layer_inputs(model, x, nn.ReLU):
        per_unit = h.transpose(0, 1).reshape(h.shape[1], -1)  # (C, N·…)
        fractions.append((per_unit <= 0).all(1).double().mean().item())
    return fractions


def weights_feeding_bn(model: nn.Sequential) -> list[nn.Parameter]:
    """``nn.Sequential`` 안에서 배치 정규화 바로 앞에 있는 선형·합성곱 층의 가중치들.

    이 가중치의 각 행 w_j (출력 특성 j로 가는 가중치)는 스케일 불변입니다: BN이 특성마다 평균을 빼고
    표준편차로 나누므로, w_j를 a > 0배 해도 모델의 출력은 (ε의 영향을 빼면) 그대로입니다.

    >>> model = nn.Sequential(nn.Linear(3, 4, bias=False), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    >>> [tuple(w.shape) for w in weights_feeding_bn(model)]
    [(4, 3)]
    """
    layers = list(model)
    return [layer.weight for layer, following in zip(layers, layers[1:])
            if isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))
            and (_is_batch_norm(following) or _is_batch_norm(getattr(following, "bn", None)))]


@torch.no_grad()
def effective_lr(weight: torch.Tensor, lr: float) -> float:
    """스케일 불변인 가중치의 유효 학습률(effective learning rate): η / (행 크기 제곱 ‖w_j‖²의 평균).

    w_j가 스케일 불변이면 기울기는 w_j에 수직이고 크기는 1/‖w_j‖에 비례합니다. 그래서 학습률 η로 한
    걸음 움직일 때 w_j의 **방향**이 바뀌는 각도는 η/‖w_j‖²에 비례합니다. 층 하나를 숫자 하나로
    나타내려고 행들의 ‖w_j‖²를 평균합니다.

    >>> effective_lr(torch.tensor([[3.0, 4.0], [0.0, 5.0]]), lr=0.5)   # ‖w_j‖² = 25, 25
    0.02
    """
    rows = weight.detach().flatten(1)
    return lr / rows.pow(2).sum(1).mean().item()


def weight_grad_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """미니배치 (x, y)의 교차 엔트로피 손실에 대한, 선형·합성곱 층마다 가중치 기울기의 크기 ‖∂L/∂W‖.

    학습 모드로(배치 정규화는 이 미니배치의 통계로) 잽니다. 모델의 복사본에서 계산하므로
    원래 모델의 이동 통계와 ``.grad``는 그대로입니다. 순서는 입력 쪽 층부터입니다.

    >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> len(weight_grad_norms(model, torch.randn(8, 3), torch.randint(0, 2, (8,))))
    2
    """
    probe = copy.deepcopy(model).train()
    weights = [m.weight for m in probe.modules()
               if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]
    loss = nn.functional.cross_entropy(probe(x), y)
    grads = torch.autograd.grad(loss, weights)
    return [g.norm().item() for g in grads]
