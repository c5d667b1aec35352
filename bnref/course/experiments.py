"""강의 7–10의 실험 도구: 손글씨 숫자 데이터, 작은 모델, 결정적인(deterministic) 학습 루프.

여러 강의가 같은 데이터·모델·학습 루프를 쓰므로 여기에 한 번만 둡니다.

- :func:`load_digits`: scikit-learn에 들어 있는 8×8 손글씨 숫자 1,797장 (내려받지 않음).
  학습 데이터와 테스트 데이터로 나누는 분할은 시드로 고정하고, 입력 정규화는 **학습 데이터의**
  평균·표준편차로 합니다.
- :func:`mlp`, :func:`cnn`: 배치 정규화 없음(``norm=None``), bnref의 BatchNorm(``"bn"``),
  잡음 섞인 BatchNorm(``"noisy_bn"``, :class:`NoisyBatchNorm`), 고스트 배치 정규화(``"ghost_bn"``,
  :mod:`bnref.course.ghost`) 중에서 고르는 작은 모델. 키워드 전용 인자로 BN의 위치(``placement``,
  강의 8), BN 앞 층의 편향(``bias``), 드롭아웃(``dropout``, 강의 9)을 바꿀 수 있고, 기본값은 이 강좌의
  관례 ``Linear/Conv(bias=False) → BN → 활성화``입니다.
- :func:`train`: 시드 고정 SGD. 스텝마다 미니배치 손실을, 에폭마다 학습·테스트 손실과 정확도를
  기록한 :class:`History`를 돌려줍니다.

기본 자료형은 float64입니다. 모델이 작아서 속도 차이가 거의 없고, float32의 합은 스레드 수에
따라 마지막 자리가 달라지는데 학습을 수백 스텝 반복하면 그 차이가 출력하는 자릿수까지 자랄 수
있기 때문입니다.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

import bnref

__all__ = ["PLACEMENTS", "Digits", "History", "NoisyBatchNorm", "SeededDropout", "cnn", "evaluate",
           "load_digits", "mlp", "train"]

# BN을 두는 자리: "before" = Linear/Conv → BN → 활성화 (이 강좌의 관례, 원 논문 3.2절),
# "after" = Linear/Conv → 활성화 → BN.
PLACEMENTS = ("before", "after")


# ---------------------------------------------------------------- data
@dataclass(frozen=True)
class Digits:
    """학습 데이터와 테스트 데이터. x는 픽셀마다 정규화한 값 (N, 64), y는 0..9 정수 레이블 (N,)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    def images(self) -> Digits:
        """CNN용으로 x를 (N, 1, 8, 8) 이미지 모양으로 바꾼 사본."""
        return Digits(self.x_train.reshape(-1, 1, 8, 8), self.y_train,
                      self.x_test.reshape(-1, 1, 8, 8), self.y_test)


def load_digits(test_size: float = 0.25, seed: int = 0, dtype=torch.float64) -> Digits:
    """scikit-learn의 digits(1,797장, 8×8, 픽셀 값 0..16)를 섞어 나누고 픽셀마다 정규화합니다 (standardise).

    분할은 클래스 비율을 유지하며(stratify) ``seed``로 고정합니다. 정규화에 쓰는 픽셀별
    평균과 표준편차는 학습 데이터에서만 구합니다. 테스트 데이터의 통계를 쓰면 테스트 데이터를
    미리 엿보는 셈이기 때문입니다. 모든 이미지에서 0인 가장자리 픽셀은 표준편차가 0이라 1로 나눕니다.

    >>> data = load_digits()
    >>> data.x_train.shape, data.x_test.shape, data.x_train.dtype
    (torch.Size([1347, 64]), torch.Size([450, 64]), torch.float64)
    >>> round(data.x_train.mean().item(), 6) + 0.0, sorted(set(data.y_train.tolist()))
    (0.0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> data.images().x_test.shape
    torch.Size([450, 1, 8, 8])
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    x, y = sklearn_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=y)
    x_train, x_test = (torch.tensor(a, dtype=dtype) for a in (x_train, x_test))
    mean = x_train.mean(0)
    std = x_train.std(0, correction=0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return Digits((x_train - mean) / std, torch.tensor(y_train),
                  (x_test - mean) / std, torch.tensor(y_test))


# ---------------------------------------------------------------- models
class NoisyBatchNorm(nn.Module):
    """배치 정규화의 출력에 스텝마다 바뀌는 잡음을 넣어 다음 층이 받는 분포를 일부러 흔듭니다.

    Santurkar 외(2018)의 실험 장치를 두 가지로 구현합니다. ``per``가 잡음을 어디에 뽑는지 정합니다.

    - ``per="channel"`` (기본값, 이 강좌의 변형): 학습 모드의 스텝마다 채널 c에 스케일
      ``s_c`` (``log s_c ~ U(−log scale, log scale)``)와 시프트 ``t_c ~ U(−shift, shift)``를 하나씩
      뽑아 ``y = s·BN(x) + t``로 만듭니다. 미니배치의 모든 샘플이 같은 ``s_c``, ``t_c``를 씁니다.
    - ``per="activation"`` (논문 본문의 설명을 따른 것): 스텝마다 잡음의 분포 ``N(μ, σ²)``를 새로
      정하고 (``μ ~ U(−shift, shift)``, ``log σ ~ U(−log scale, log scale)``), 모든 샘플의 모든
      활성값에 이 분포에서 서로 독립으로(i.i.d.) 뽑은 잡음 ``n``을 더합니다: ``y = BN(x) + n``.
      평균이 0이 아니고 분산이 1이 아닌 분포가 스텝마다 바뀐다는 것이 논문의 설명이고, 분포의
      모양(정규분포)과 크기(``shift``, ``scale``)는 이 강좌가 정한 것입니다.

    어느 쪽이든 다음 층이 받는 분포의 평균과 분산이 스텝마다 흔들립니다. 평가 모드에서는 잡음 없이
    ``BN(x)``만 돌려줍니다. 잡음은 모듈 자신의 생성기(``seed``)로 뽑으므로 전역 난수 상태와
    상관없이 매번 같습니다. ``per``는 속성이므로 만든 뒤에 바꿀 수도 있습니다.

    >>> layer = NoisyBatchNorm(bnref.BatchNorm1d(3), shift=1.0, scale=2.0)
    >>> x = torch.randn(8, 3)
    >>> y1, y2 = layer(x), layer(x)           # 같은 입력, 다른 스텝 → 다른 잡음
    >>> torch.allclose(y1, y2)
    False
    >>> _ = layer.eval()
    >>> torch.allclose(layer(x), layer.bn(x))
    True
    >>> x = torch.tensor([[0.0, 1.0], [0.0, 1.0], [1.0, 3.0], [2.0, 0.0]])  # 0번과 1번 샘플이 같음
    >>> for per in ["channel", "activation"]:
    ...     y = NoisyBatchNorm(bnref.BatchNorm1d(2), per=per)(x)
    ...     print(per, torch.equal(y[0], y[1]))   # 같은 두 샘플이 같은 잡음을 받는가
    channel True
    activation False
    """

    PER = ("channel", "activation")

    def __init__(self, bn: nn.Module, shift: float = 1.0, scale: float = 2.0, seed: int = 0, *,
                 per: str = "channel"):
        super().__init__()
        if per not in self.PER:
            raise ValueError(f"per must be 'channel' or 'activation', got {per!r}")
        self.bn, self.shift, self.scale, self.per = bn, shift, scale, per
        self.generator = torch.Generator().manual_seed(seed)

    def forward(self, input):
        y = self.bn(input)
        if not self.training:
            return y
        if self.per == "activation":
            return y + self._iid_noise(y)
        if self.per != "channel":
            raise ValueError(f"per must be 'channel' or 'activation', got {self.per!r}")
        c = y.shape[1]
        shape = (1, c) + (1,) * (y.dim() - 2)  # 채널별 값 (C,) → (1, C, 1, ...)
        u = torch.rand(2, c, generator=self.generator, dtype=y.dtype)
        log_s = (2 * u[0] - 1) * math.log(self.scale)  # log s ~ U(−log scale, log scale)
        t = (2 * u[1] - 1) * self.shift
        return y * log_s.exp().reshape(shape) + t.reshape(shape)

    def _iid_noise(self, y):
        """이번 스텝의 분포 N(μ, σ²)를 뽑고, y의 모든 원소에 그 분포에서 독립으로 뽑은 잡음."""
        u = torch.rand(2, generator=self.generator, dtype=y.dtype)
        mu = (2 * u[0] - 1) * self.shift  # μ ~ U(−shift, shift)
        sigma = ((2 * u[1] - 1) * math.log(self.scale)).exp()  # log σ ~ U(−log scale, log scale)
        z = torch.randn(y.shape, generator=self.generator, dtype=y.dtype)
        return mu + sigma * z


class SeededDropout(nn.Module):
    """``nn.Dropout``과 같은 계산(inverted dropout)을 모듈 자신의 생성기로 합니다.

    학습 모드에서는 값마다 확률 ``p``로 0을 만들고 남은 값은 ``1/(1 − p)``배 합니다(그래서 기댓값이
    그대로입니다). 평가 모드에서는 입력을 그대로 돌려줍니다. ``nn.Dropout``은 전역 난수 생성기를
    쓰므로 같은 결과를 다시 얻으려면 학습 전에 전역 시드를 정해야 하지만, 이것은 ``seed``로 정한
    자기 생성기를 써서 :func:`train`과 전역 난수 상태에 상관없이 매번 같습니다.

    >>> drop = SeededDropout(0.5, seed=0)
    >>> y = drop(torch.ones(1000, dtype=torch.float64))
    >>> sorted(set(y.tolist())), round((y == 0).double().mean().item(), 1)
    ([0.0, 2.0], 0.5)
    >>> torch.equal(drop.eval()(y), y)
    True
    """

    def __init__(self, p: float = 0.5, seed: int = 0):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability has to be in [0, 1), but got {p}")
        self.p = p
        self.generator = torch.Generator().manual_seed(seed)

    def extra_repr(self):
        return f"p={self.p}"

    def forward(self, input):
        if not self.training or self.p == 0.0:
            return input
        keep = torch.rand(input.shape, generator=self.generator, dtype=input.dtype) >= self.p
        return input * keep / (1.0 - self.p)


NORMS = (None, "bn", "noisy_bn", "ghost_bn")


def _norm(norm: str | None, channels: int, dims: int, seed: int,
          virtual_batch_size: int | None = None) -> list[nn.Module]:
    """norm 종류에 맞는 정규화 층 (없으면 빈 리스트). dims=1이면 BatchNorm1d, 2면 BatchNorm2d."""
    if norm is None:
        return []
    if norm == "ghost_bn":
        from bnref.course import ghost

        return [(ghost.GhostBatchNorm1d if dims == 1 else ghost.GhostBatchNorm2d)(channels, virtual_batch_size)]
    bn = (bnref.BatchNorm1d if dims == 1 else bnref.BatchNorm2d)(channels)
    if norm == "bn":
        return [bn]
    if norm == "noisy_bn":
        return [NoisyBatchNorm(bn, seed=seed)]
    raise AssertionError(norm)  # _check_options가 먼저 거릅니다


def _check_options(norm, placement, virtual_batch_size) -> None:
    """모델을 만들기 전에 인자를 검사합니다 (난수를 쓰기 전에)."""
    if norm not in NORMS:
        raise ValueError(f"norm must be None, 'bn', 'noisy_bn' or 'ghost_bn', got {norm!r}")
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be 'before' or 'after', got {placement!r}")
    if (norm == "ghost_bn") != (virtual_batch_size is not None):
        raise ValueError("virtual_batch_size is given exactly when norm='ghost_bn'")


def _block(layer: nn.Module, norm_layers: list[nn.Module], act: nn.Module, placement: str) -> list[nn.Module]:
    """층 → [BN] → 활성화 (placement="before") 또는 층 → 활성화 → [BN] ("after")."""
    return [layer, *norm_layers, act] if placement == "before" else [layer, act, *norm_layers]


def _default_bias(norm: str | None, placement: str) -> bool:
    """BN이 바로 뒤에 있으면 편향을 뺍니다: BN이 평균을 빼면서 지워 버리기 때문입니다(강의 8).
    BN이 활성화 함수 뒤에 있으면 편향은 활성화 함수에 들어가므로 지워지지 않아 남겨 둡니다."""
    return norm is None or placement == "after"


def _scale_init(model: nn.Module, init_scale: float) -> None:
    """Linear/Conv 가중치를 init_scale배 합니다 (초기화 크기 실험용). BN의 γ, β는 그대로."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                m.weight.mul_(init_scale)


def mlp(norm: str | None = None, *, hidden: int = 64, depth: int = 2, activation: str = "relu",
        init_scale: float = 1.0, seed: int = 0, dtype=torch.float64, placement: str = "before",
        bias: bool | None = None, dropout: float = 0.0, virtual_batch_size: int | None = None) -> nn.Sequential:
    """64 → (Linear → [BN] → 활성화 → [드롭아웃]) × depth → 10인 다층 퍼셉트론(MLP).

    BN이 있으면 그 앞 Linear의 편향은 뺍니다: BN이 평균을 빼면서 어차피 지워 버리기 때문입니다.
    가중치는 torch 기본 초기화에 ``init_scale``을 곱한 값이고, ``seed``로 고정합니다
    (전역 난수 상태는 건드리지 않습니다).

    키워드 전용 인자 (기본값이면 위의 모델 그대로):

    - ``placement="after"``: 은닉층을 ``Linear → 활성화 → BN``으로 쌓습니다 (강의 8).
    - ``bias``: 은닉층 Linear의 편향. ``None``이면 BN이 바로 뒤에 있을 때만 뺍니다.
    - ``dropout=p > 0``: 은닉층마다 활성화 함수(``"after"``면 BN) 뒤에 :class:`SeededDropout`을 둡니다.
    - ``norm="ghost_bn"``: ``virtual_batch_size``개짜리 가상 배치마다 정규화하는
      :class:`bnref.course.ghost.GhostBatchNorm1d` (강의 9).

    BN이 있는 모델은 ``placement``, ``bias``, ``dropout``을 바꿔도 같은 시드면 가중치가 같습니다
    (:func:`_hidden_layer`). 그래서 두 배치를 같은 시드끼리 짝지어 비교할 수 있습니다.

    >>> model = mlp("bn", depth=1)
    >>> [type(m).__name__ for m in model], model[0].bias is None
    (['Linear', 'BatchNorm1d', 'ReLU', 'Linear'], True)
    >>> type(model[1]).__module__
    'bnref.modules'
    >>> torch.equal(mlp(seed=1)[0].weight, mlp(seed=1)[0].weight)
    True
    >>> model = mlp("bn", depth=1, placement="after", dropout=0.1)
    >>> [type(m).__name__ for m in model], model[0].bias is None
    (['Linear', 'ReLU', 'BatchNorm1d', 'SeededDropout', 'Linear'], False)
    """
    _check_options(norm, placement, virtual_batch_size)
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid}[activation]
    use_bias = _default_bias(norm, placement) if bias is None else bias
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers, width = [], 64
        for i in range(depth):
            linear = _hidden_layer(lambda b: nn.Linear(width, hidden, bias=b), norm, use_bias,
                                   width, hidden, _BIAS_SEED * (seed + 1) + i)
            layers += _block(linear, _norm(norm, hidden, 1, seed + i, virtual_batch_size), act(), placement)
            if dropout > 0:
                layers.append(SeededDropout(dropout, seed=seed + i))
            width = hidden
        model = nn.Sequential(*layers, nn.Linear(width, 10)).to(dtype)
    _scale_init(model, init_scale)
    return model


def _hidden_layer(make, norm: str | None, bias: bool, fan_in: int, size: int, seed: int) -> nn.Module:
    """은닉층 하나(Linear 또는 Conv2d)를 만듭니다. ``make(bias)``가 층을 만드는 함수입니다.

    BN이 없는 모델은 torch 그대로 ``make(bias)`` 입니다 (가중치 다음에 편향을 같은 전역 생성기에서
    뽑음). BN이 있는 모델은 편향이 있든 없든 **같은 가중치**를 갖게 합니다: 언제나 ``make(False)``로
    가중치만 전역 생성기에서 뽑고, 편향이 필요하면 torch 기본 초기화 U(−1/√fan_in, 1/√fan_in)를
    ``seed``로 정한 따로 된 생성기에서 뽑습니다. 그래서 같은 시드의 "before"/"after" 모델이나 편향이
    있는 모델과 없는 모델은 가중치가 같고, 비교가 짝지어집니다.
    """
    if norm is None:
        return make(bias)
    layer = make(False)
    if bias:
        generator = torch.Generator().manual_seed(seed)
        bound = 1 / math.sqrt(fan_in)
        layer.bias = nn.Parameter((torch.rand(size, generator=generator) * 2 - 1) * bound)
    return layer


_BIAS_SEED = 7_919  # 편향 생성기의 시드 = _BIAS_SEED·(seed + 1) + 층 번호: 가중치의 시드와 겹치지 않게


def cnn(norm: str | None = None, *, channels: tuple[int, int] = (8, 16), init_scale: float = 1.0,
        seed: int = 0, dtype=torch.float64, placement: str = "before", bias: bool | None = None,
        virtual_batch_size: int | None = None) -> nn.Sequential:
    """8×8 이미지용 작은 합성곱 신경망(CNN): (Conv3×3 → [BN2d] → ReLU → MaxPool2) × 2 → Linear.

    공간 크기는 8×8 → 4×4 → 2×2로 줄고, 마지막 층은 ``channels[1]·2·2`` 개 특성을 받습니다.
    ``placement``, ``bias``, ``norm="ghost_bn"``은 :func:`mlp`와 같습니다 (``"after"``면
    Conv → ReLU → BN2d → MaxPool2).

    >>> model = cnn("bn")
    >>> model(torch.zeros(2, 1, 8, 8, dtype=torch.float64)).shape
    torch.Size([2, 10])
    >>> sum(isinstance(m, bnref.BatchNorm2d) for m in model)
    2
    """
    _check_options(norm, placement, virtual_batch_size)
    use_bias = _default_bias(norm, placement) if bias is None else bias
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers, width = [], 1
        for i, c in enumerate(channels):
            conv = _hidden_layer(lambda b: nn.Conv2d(width, c, 3, padding=1, bias=b), norm, use_bias,
                                 width * 3 * 3, c, _BIAS_SEED * (seed + 1) + i)
            layers += _block(conv, _norm(norm, c, 2, seed + i, virtual_batch_size), nn.ReLU(), placement)
            layers.append(nn.MaxPool2d(2))
            width = c
        model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(width * 2 * 2, 10)).to(dtype)
    _scale_init(model, init_scale)
    return model


# ---------------------------------------------------------------- training
@dataclass
class History:
    """학습 기록. ``step_loss``는 스텝마다의 미니배치 손실입니다. 에폭마다의 값 가운데
    ``train_loss``/``train_acc``는 그 에폭 미니배치들의 평균(학습 모드, 따로 계산하지 않고 학습하며
    얻은 값)이고, ``test_loss``/``test_acc``는 테스트 데이터를 평가 모드로 잰 값이며 0번째 항목은
    학습 전입니다. 손실이 발산하면(NaN/Inf) ``diverged``가 True이고 그 자리에서 멈춥니다."""

    step_loss: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    diverged: bool = False


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """평가 모드에서 (교차 엔트로피 손실, 정확도). 모델의 원래 모드는 되돌려 놓습니다.

    >>> data = load_digits()
    >>> loss, acc = evaluate(mlp(), data.x_test, data.y_test)
    >>> 0.0 <= acc <= 1.0 and loss > 0
    True
    """
    was_training = model.training
    model.eval()
    logits = model(x)
    model.train(was_training)
    loss = nn.functional.cross_entropy(logits, y).item()
    acc = (logits.argmax(1) == y).double().mean().item()
    return loss, acc


def train(model: nn.Module, data: Digits, *, epochs: int, lr: float, batch_size: int | None = None,
          momentum: float = 0.0, seed: int = 0, on_step=None, weight_decay: float = 0.0) -> History:
    """SGD로 ``epochs`` 에폭 학습하고 :class:`History`를 돌려줍니다.

    ``batch_size=None``이면 학습 데이터 전체가 한 미니배치입니다(full batch, 에폭당 한 스텝).
    미니배치 순서는 ``seed``로 고정한 생성기로 에폭마다 새로 섞고, 크기가 모자란 마지막 조각은
    버립니다(샘플 하나짜리 배치는 BN이 학습 모드에서 거절합니다). ``on_step(step, model)``을
    주면 스텝마다(파라미터를 갱신한 뒤) 부릅니다. 손실이 NaN/Inf가 되면 멈추고 ``diverged=True``.
    ``weight_decay``는 ``torch.optim.SGD``의 가중치 감쇠(weight decay)로, 모든 파라미터에 걸립니다
    (기본값 0이면 감쇠 없음).

    >>> data = load_digits()
    >>> h = train(mlp("bn"), data, epochs=2, lr=0.1, batch_size=512)
    >>> len(h.step_loss), len(h.train_loss), len(h.test_acc)   # 1347개를 512개씩: 에폭당 2스텝
    (4, 2, 3)
    >>> h.test_acc[-1] > h.test_acc[0]
    True
    """
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    generator = torch.Generator().manual_seed(seed)
    n = len(data.y_train)
    size = n if batch_size is None else batch_size
    history = History()

    def record_test():
        loss, acc = evaluate(model, data.x_test, data.y_test)
        history.test_loss.append(loss)
        history.test_acc.append(acc)

    record_test()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        losses, accs = [], []
        for start in range(0, n - size + 1, size):  # 남는 샘플(n % size개)은 이번 에폭에서 뺍니다
            idx = order[start:start + size]
            logits = model(data.x_train[idx])
            loss = nn.functional.cross_entropy(logits, data.y_train[idx])
            if not math.isfinite(loss.item()):
                history.diverged = True
                return history
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            accs.append((logits.argmax(1) == data.y_train[idx]).double().mean().item())
            history.step_loss.append(loss.item())
            if on_step is not None:
                on_step(len(history.step_loss), model)
        history.train_loss.append(sum(losses) / len(losses))
        history.train_acc.append(sum(accs) / len(accs))
        record_test()
    return history
