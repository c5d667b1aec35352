r"""배치 정규화의 대안들: 층 정규화(LayerNorm), 인스턴스 정규화(InstanceNorm), 그룹 정규화(GroupNorm).

넷 다 같은 식 :math:`y = (x - \mathrm{E}[x]) / \sqrt{\mathrm{Var}[x] + \epsilon} \cdot \gamma + \beta`이고,
평균과 편향(biased) 분산을 **어떤 값들의 집합에서** 구하느냐만 다릅니다 (Wu & He, 2018).
(N, C, *) 입력에서

- 배치 정규화: 채널 하나의 (N, *) 값들 — 미니배치 전체에 걸침
- 층 정규화: 샘플 하나의 (C, *) 값들 — 뒤쪽 ``normalized_shape`` 차원 전부
- 인스턴스 정규화: 샘플 하나, 채널 하나의 (*) 값들
- 그룹 정규화: 샘플 하나, 채널 묶음 하나의 (C/G, *) 값들

그래서 여기서는 통계를 새로 짜지 않습니다. 입력을 (1, M, K)로 펼쳐 "채널" 축(dim 1)에 정규화할
집합 M 개를 세우면, :mod:`bnref.functional`의 배치 정규화(학습 모드, 이동 통계 없음)가 바로
그 집합마다 평균과 편향 분산을 구해 줍니다 — 두 번 훑는 통계도, 닫힌 꼴 역전파도 그대로 씁니다.
기울기는 그 닫힌 꼴과, 그 뒤의 γ·β 곱셈·덧셈에 대한 autograd로 구합니다.
float16/bfloat16 입력은 torch처럼 x̂과 γ·β 적용을 float32로 하고 마지막에 한 번만 반올림합니다.

배치 정규화와 달리 층·그룹 정규화의 통계는 샘플 하나 안에서만 구하므로 학습과 평가의 계산이
같고, 이동 통계가 없으며, 배치 크기와 무관합니다. 인스턴스 정규화는 torch처럼 이동
통계를 선택적으로 둡니다 (``track_running_stats``, 기본값 ``False``).

잘못된 입력에는 torch 2.13과 같은 종류·같은 문장의 예외를 내고, 아무것도 바꾸지 않습니다.
"""
import math
import numbers
import warnings

import torch
from torch import nn

from bnref import _checks
from bnref import functional as F
from bnref.modules import _NormBase

__all__ = ["layer_norm", "group_norm", "instance_norm", "LayerNorm", "GroupNorm", "InstanceNorm1d",
           "InstanceNorm2d", "InstanceNorm3d"]


def _standardize(x, sets, eps):
    """x를 ``sets`` 개의 같은 크기 집합으로 나눠 (행 우선 순서) 집합마다 평균 0, 편향 분산 1로 만든 x̂.

    (1, sets, K)로 펼치면 집합이 배치 정규화의 채널 자리에 오므로 채널별 통계 = 집합별 통계입니다.
    x̂은 계산 dtype(float16/bfloat16이면 float32) 그대로 돌려줍니다: 입력 dtype으로 내리는 반올림은
    γ·β까지 적용한 뒤 :func:`_affine`에서 한 번만 합니다.
    """
    x = x.to(F._compute_dtype(x))
    if x.numel() == 0:                     # 빈 입력: 집합의 크기를 알 수 없고 정규화할 값도 없음
        return x.clone()
    flat = x.reshape(1, sets, -1)                              # (*) -> (1, M, K)
    y = F._BatchNormFunction.apply(flat, None, None, None, None, True, 0.0, eps)
    return y.reshape(x.shape)


def _affine(xhat, weight, bias, dtype):
    """y = x̂·γ + β를 x̂의 계산 dtype에서 구하고 ``dtype``으로 한 번만 반올림합니다.

    torch의 CPU 커널도 float16/bfloat16에서 이렇게 합니다. x̂을 먼저 float16으로 내리고 γ를 곱하고
    β를 더하면 반올림이 세 번 쌓여, 출력이 torch보다 부정확해집니다. γ와 β도 계산 dtype으로 올려서
    쓰므로 그 기울기(표본들의 합)도 계산 dtype에서 더한 뒤 한 번만 내려갑니다.
    ``weight``, ``bias``는 x̂에 브로드캐스트되는 모양이어야 합니다.
    """
    weight, bias = (None if t is None else t.to(xhat.dtype) for t in (weight, bias))
    if weight is not None and bias is not None:
        xhat = torch.addcmul(bias, xhat, weight)
    elif weight is not None:
        xhat = xhat * weight
    elif bias is not None:
        xhat = xhat + bias
    return xhat.to(dtype)


def _shape(t):
    return list(t.shape)


# ---------------------------------------------------------------- layer norm
def _check_layer_norm(input, normalized_shape, weight, bias):
    # torch 의 검사 순서: normalized_shape, weight, bias, 입력 모양, 자료형.
    if isinstance(normalized_shape, numbers.Integral):
        raise TypeError("layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not int")
    shape = list(normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least "
                           f"one element, but got normalized_shape = {shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and _shape(t) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                               f"shape {_shape(t)} and normalized_shape = {shape}")
    if input.dim() < len(shape) or _shape(input)[input.dim() - len(shape):] != shape:
        raise RuntimeError(f"Given normalized_shape={shape}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{_shape(input)}")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"LayerNormKernelImpl\" not implemented for '{_checks._dtype_name(input.dtype)}'")
    _checks._check_dtypes(input, [weight, bias], True)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    r"""Apply Layer Normalization for last certain number of dimensions.

    ``torch.nn.functional.layer_norm``의 쌍둥이. 입력의 뒤쪽 ``normalized_shape`` 차원에 든 값들
    (샘플 하나의 모든 특성)로 평균과 편향 분산을 구해 정규화하고, 원소마다 γ(weight)·β(bias)를
    적용합니다. 배치의 다른 샘플은 보지 않습니다.

    Args:
        input: (*, normalized_shape[0], ..., normalized_shape[-1]) 텐서
        normalized_shape: 정규화할 뒤쪽 차원들의 크기 (tuple 또는 list)
        weight, bias: ``normalized_shape`` 모양의 γ, β 또는 None. Default: ``None``
        eps: 분모에 더하는 작은 수. Default: 1e-5

    Examples::

        >>> import torch
        >>> from bnref.norms import layer_norm
        >>> x = torch.tensor([[1.0, 2.0, 3.0, 4.0], [10.0, 10.0, 20.0, 20.0]])
        >>> layer_norm(x, (4,))                      # 행(샘플)마다 따로
        tensor([[-1.3416, -0.4472,  0.4472,  1.3416],
                [-1.0000, -1.0000,  1.0000,  1.0000]])
    """
    _check_layer_norm(input, normalized_shape, weight, bias)
    k = math.prod(normalized_shape)
    sets = input.numel() // k if k else 0
    xhat = _standardize(input, sets, eps)
    return _affine(xhat, weight, bias, input.dtype)          # (*, S) · (S) : 원소마다


# ---------------------------------------------------------------- group norm
def _check_group_norm(input, num_groups, weight, bias):
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    N, C = input.shape[:2]
    size = [N * C // num_groups, num_groups] + _shape(input)[2:]   # torch 의 _verify_batch_size 와 같은 모양
    if math.prod(size[:1] + size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")
    if C % num_groups != 0:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, but got input "
                           f"of shape {_shape(input)} and num_groups={num_groups}")
    # torch 2.13 은 bias 가 틀렸을 때도 메시지에 weight 의 모양(없으면 [0])을 적습니다. 문장을 맞추려고 그대로 따릅니다.
    shown = _shape(weight) if weight is not None else [0]
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and not (t.dim() == 1 and t.numel() == C):
            shape = _shape(t) if name == "weight" else shown
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {shape} and input of shape {_shape(input)}")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"GroupNormKernelImpl\" not implemented for '{_checks._dtype_name(input.dtype)}'")
    _checks._check_dtypes(input, [weight, bias], True)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    r"""Apply Group Normalization for last certain number of dimensions.

    ``torch.nn.functional.group_norm``의 쌍둥이. 샘플마다 C 개의 채널을 ``num_groups`` 개의 묶음으로
    나누고, 묶음 하나에 든 (C/G)·(공간 크기) 개의 값으로 평균과 편향 분산을 구해 정규화한 뒤,
    채널마다 γ(weight)·β(bias)를 적용합니다. ``num_groups=1``이면 (γ, β의 모양만 빼고) 층 정규화,
    ``num_groups=C``이면 인스턴스 정규화와 같습니다.

    Args:
        input: (N, C, *) 텐서
        num_groups: 묶음 수 G (C의 약수)
        weight, bias: (C,)의 γ, β 또는 None. Default: ``None``
        eps: 분모에 더하는 작은 수. Default: 1e-5

    Examples::

        >>> import torch
        >>> from bnref.norms import group_norm
        >>> x = torch.tensor([[1.0, 3.0, 10.0, 30.0]])      # (N=1, C=4): 채널 묶음 (1, 3), (10, 30)
        >>> group_norm(x, 2)
        tensor([[-1.0000,  1.0000, -1.0000,  1.0000]])
    """
    _check_group_norm(input, num_groups, weight, bias)
    xhat = _standardize(input, input.size(0) * num_groups, eps)  # (N, C, *) -> 집합 N·G 개
    weight, bias = (None if t is None else F._per_channel(t, input) for t in (weight, bias))  # 채널마다
    return _affine(xhat, weight, bias, input.dtype)


# ---------------------------------------------------------------- instance norm
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    r"""Apply Instance Normalization independently for each channel in every data sample within a batch.

    ``torch.nn.functional.instance_norm``의 쌍둥이이고, 계산도 torch와 같은 방법으로 합니다:
    (N, C, *)를 (1, N·C, *)로 보면 샘플·채널 한 쌍이 배치 정규화의 채널 하나가 됩니다. γ, β와
    이동 통계는 N 번 되풀이해 넘기고, 갱신된 이동 통계는 N 개의 평균으로 되돌려 씁니다.
    ``use_input_stats=False``면 (평가) 저장된 이동 통계로 정규화합니다.

    Args:
        input: (N, C, *) 텐서, 공간 크기 > 1
        running_mean, running_var: (C,) 또는 None. 있고 ``use_input_stats``면 제자리 갱신 (분산은 불편)
        weight, bias: (C,)의 γ, β 또는 None. Default: ``None``
        use_input_stats: 입력의 통계를 쓸지. Default: ``True``
        momentum: 이동 통계에 새 배치가 차지하는 몫. Default: 0.1
        eps: 분모에 더하는 작은 수. Default: 1e-5

    Examples::

        >>> import torch
        >>> from bnref.norms import instance_norm
        >>> x = torch.tensor([[[1.0, 3.0], [10.0, 30.0]]])   # (N=1, C=2, L=2)
        >>> instance_norm(x)
        tensor([[[-1.0000,  1.0000],
                 [-1.0000,  1.0000]]])
    """
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.size()}")
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    if momentum is None:
        raise TypeError("instance_norm(): argument 'momentum' (position 7) must be float, not NoneType")
    N, C = input.shape[:2]
    flat = input.reshape(1, N * C, *input.shape[2:])                # (N, C, *) -> (1, N·C, *)
    rm, rv, w, b = (None if t is None else t.repeat(N) for t in (running_mean, running_var, weight, bias))
    if flat.numel():
        # torch.instance_norm은 batch_norm의 eps 검사를 거치지 않습니다(eps ≤ 0도 받음): 그 검사만 건너뜁니다.
        _checks._check_args(flat, rm, rv, w, b, use_input_stats, momentum, eps=1.0)
        # γ, β를 계산 dtype으로 올린 뒤 되풀이합니다: 되풀이(repeat)의 역전파가 표본 N개의 dγ를 더할 때
        # float16으로 하나씩 반올림된 값을 더하지 않게 (torch도 float32로 모아 한 번 반올림).
        w, b = (None if t is None else t.to(F._compute_dtype(input)).repeat(N) for t in (weight, bias))
    y = F._forward(flat, w, b, rm, rv, use_input_stats, momentum, eps)
    if use_input_stats:                                             # 샘플 N 개의 갱신을 평균해 되돌림
        with torch.no_grad():
            for running, copies in ((running_mean, rm), (running_var, rv)):
                if running is not None:          # N = 0이면 torch처럼 평균이 nan (0개의 평균)
                    running.copy_(copies.view(N, C).mean(0))
    return y.reshape(input.shape)


# ---------------------------------------------------------------- modules
class LayerNorm(nn.Module):
    r"""Applies Layer Normalization over a mini-batch of inputs.

    :class:`torch.nn.LayerNorm`의 쌍둥이. 뒤쪽 ``normalized_shape`` 차원에 걸쳐 샘플마다 정규화하고,
    ``elementwise_affine``이면 원소마다 γ, β를 둡니다 (모양 = ``normalized_shape``). 학습과 평가의
    계산이 같습니다.

    Args:
        normalized_shape: 정규화할 뒤쪽 차원들 (int 하나도 됨)
        eps: Default: 1e-5
        elementwise_affine: γ, β를 둘지. Default: ``True``
        bias: β를 둘지. Default: ``True``
        device, dtype: Default: ``None``

    Examples::

        >>> import torch, bnref
        >>> ln = bnref.LayerNorm(4)
        >>> ln(torch.tensor([[1.0, 2.0, 3.0, 4.0]])).detach()
        tensor([[-1.3416, -0.4472,  0.4472,  1.3416]])
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = nn.Parameter(torch.empty(self.normalized_shape, **factory))
            self.bias = nn.Parameter(torch.empty(self.normalized_shape, **factory)) if bias else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.elementwise_affine:
            nn.init.ones_(self.weight)
            if self.bias is not None:
                nn.init.zeros_(self.bias)

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(nn.Module):
    r"""Applies Group Normalization over a mini-batch of inputs.

    :class:`torch.nn.GroupNorm`의 쌍둥이. 채널을 ``num_groups`` 묶음으로 나눠 샘플마다·묶음마다
    정규화하고, ``affine``이면 채널마다 γ, β를 둡니다. 학습과 평가의 계산이 같습니다.

    Args:
        num_groups: 묶음 수 G
        num_channels: 채널 수 C (G의 배수)
        eps: Default: 1e-5
        affine: γ, β를 둘지. Default: ``True``
        device, dtype: Default: ``None``
        bias: (키워드 전용) β를 둘지. Default: ``True``

    Examples::

        >>> import torch, bnref
        >>> gn = bnref.GroupNorm(2, 4, affine=False)
        >>> gn(torch.tensor([[1.0, 3.0, 10.0, 30.0]]))
        tensor([[-1.0000,  1.0000, -1.0000,  1.0000]])
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = nn.Parameter(torch.empty(num_channels, **factory))
            self.bias = nn.Parameter(torch.empty(num_channels, **factory)) if bias else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.affine:
            nn.init.ones_(self.weight)
            if self.bias is not None:
                nn.init.zeros_(self.bias)

    def forward(self, input):
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, " \
               f"bias={self.bias is not None}"


class _InstanceNorm(_NormBase):
    """InstanceNorm1d/2d/3d 의 공통 부분.

    파라미터·버퍼·초기화는 배치 정규화 층과 같으므로 torch처럼 ``_NormBase``를 물려받고,
    기본값(affine=False, track_running_stats=False)과 forward만 다릅니다. torch처럼
    ``num_batches_tracked``는 세지 않고, ``momentum=None``이면 이동 통계를 바꾸지 않습니다.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def _get_no_batch_dim(self):
        raise NotImplementedError

    def _apply_instance_norm(self, input):
        return instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                             self.training or not self.track_running_stats,
                             self.momentum if self.momentum is not None else 0.0, self.eps)

    def forward(self, input):
        self._check_input_dim(input)
        feature_dim = input.dim() - self._get_no_batch_dim()
        if input.size(feature_dim) != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match num_features"
                                 f" ({self.num_features}), but got: {input.size(feature_dim)}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You can silence this "
                          "warning by not passing in num_features, which is not used because affine=False",
                          stacklevel=2)
        if input.dim() == self._get_no_batch_dim():                 # 배치 차원이 없는 입력 (C, *)
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)


class InstanceNorm1d(_InstanceNorm):
    r"""Applies Instance Normalization over a 2D (unbatched) or 3D (batched) input.

    :class:`torch.nn.InstanceNorm1d`의 쌍둥이: 샘플마다·채널마다 길이 L의 값들로 정규화합니다.

    Shape:
        - Input: :math:`(N, C, L)` or :math:`(C, L)`
        - Output: same shape as input

    Examples::

        >>> import torch, bnref
        >>> bnref.InstanceNorm1d(2)(torch.tensor([[[1.0, 3.0], [10.0, 30.0]]]))
        tensor([[[-1.0000,  1.0000],
                 [-1.0000,  1.0000]]])
    """

    def _get_no_batch_dim(self):
        return 2

    def _check_input_dim(self, input):
        if input.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class InstanceNorm2d(_InstanceNorm):
    r"""Applies Instance Normalization over a 3D (unbatched) or 4D (batched) input.

    :class:`torch.nn.InstanceNorm2d`의 쌍둥이: 샘플마다·채널마다 H·W 개의 값으로 정규화합니다.

    Shape:
        - Input: :math:`(N, C, H, W)` or :math:`(C, H, W)`
        - Output: same shape as input
    """

    def _get_no_batch_dim(self):
        return 3

    def _check_input_dim(self, input):
        if input.dim() not in (3, 4):
            raise ValueError(f"expected 3D or 4D input (got {input.dim()}D input)")


class InstanceNorm3d(_InstanceNorm):
    r"""Applies Instance Normalization over a 4D (unbatched) or 5D (batched) input.

    :class:`torch.nn.InstanceNorm3d`의 쌍둥이: 샘플마다·채널마다 D·H·W개의 값으로 정규화합니다.

    Shape:
        - Input: :math:`(N, C, D, H, W)` or :math:`(C, D, H, W)`
        - Output: same shape as input
    """

    def _get_no_batch_dim(self):
        return 4

    def _check_input_dim(self, input):
        if input.dim() not in (4, 5):
            raise ValueError(f"expected 4D or 5D input (got {input.dim()}D input)")
