"""나쁜 입력 검사: torch 가 내는 오류를 같은 종류, 같은 문장, 같은 순서로 (torch 2.13 에서 확인).

계산을 시작하기 전에 모두 검사하므로, 거절된 호출은 아무 버퍼도 바꾸지 않습니다.
"""
import torch


def _dtype_name(dtype):
    """torch.int64 -> 'Long' (torch 의 C++ 오류 문장이 쓰는 이름)."""
    return torch.empty(0, dtype=dtype).type().split(".")[-1][: -len("Tensor")]


def _check_args(input, running_mean, running_var, weight, bias, training, momentum, eps):
    """torch 가 내는 오류를 같은 종류·같은 문장·같은 순서로 냅니다. 아무것도 바꾸지 않습니다.

    순서: torch.nn.functional.batch_norm 의 Python 검사(배치 크기, eps), 인자 검사(momentum),
    그다음 C++ 커널의 검사(버퍼 크기, 평가 모드의 버퍼, dtype).
    """
    _check_call(input, training, momentum, eps)
    _check_tensors(input, running_mean, running_var, weight, bias, training)


def _check_call(input, training, momentum, eps):
    """C++ 커널에 닿기 전의 검사: torch.nn.functional.batch_norm의 Python 검사와 인자 검사(momentum).

    torch는 빈 입력에도 이 검사들을 합니다. C++ 커널은 빈 입력을 받으면 다른 검사 없이 결과를 돌려줍니다.
    """
    if training:
        size = input.size()
        size_prods = size[0]
        for i in range(len(size) - 2):
            size_prods *= size[i + 2]
        if size_prods == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if momentum is None:  # torch 의 인자 검사(argument parser)와 같은 문장
        raise TypeError("batch_norm(): argument 'momentum' (position 7) must be float, not NoneType")


def _check_tensors(input, running_mean, running_var, weight, bias, training):
    """C++ 커널(native_batch_norm)의 검사: 버퍼와 γ·β의 크기, 평가 모드의 버퍼, dtype."""
    num_features = input.size(1) if input.dim() > 1 else 0
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is None and not training and name.startswith("running"):
            raise RuntimeError(f"{name} must be defined in evaluation mode")
        if t is not None and t.numel() != num_features:
            raise RuntimeError(f"{name} should contain {num_features} elements not {t.numel()}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    input.size(1)  # 1차원 입력이면 torch 와 같은 IndexError
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.requires_grad and torch.is_grad_enabled():
            raise RuntimeError(f"The function 'native_batch_norm' is not differentiable with respect to "
                               f"argument '{name}'. This input cannot have requires_grad True.")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"batch_norm\" not implemented for '{_dtype_name(input.dtype)}'")
    _check_dtypes(input, [weight, bias, running_mean, running_var], training)
    for t in (running_mean, running_var):
        if t is not None and t.dim() != 1:
            raise RuntimeError(f"TensorAccessor expected 1 dims but tensor has {t.dim()}")


def _check_dtypes(input, params, training):
    # CPU 규칙: 모두 input 과 같은 dtype, 또는 input 이 float16/bfloat16 이고 나머지가 모두 float32.
    given = [t for t in params if t is not None]
    if not given:
        return
    if given[0].dtype != input.dtype:
        if any(t.dtype != torch.float32 for t in given):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        if input.dtype not in (torch.float16, torch.bfloat16):
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        return
    order = params[2:] + params[:2] if training else params
    for t in order:
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(f"expected scalar type {_dtype_name(input.dtype)} but found {_dtype_name(t.dtype)}")
