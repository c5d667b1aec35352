# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # CNN 속의 BN
#
# 지금까지는 모양이 $(N, C)$인 입력, 즉 샘플마다 특성이 한 줄로 늘어선 데이터만 다뤘습니다.
# 합성곱 신경망(convolutional neural network, CNN)의 층은 이미지처럼 모양이 $(N, C, H, W)$인 텐서를
# 내놓습니다. 샘플 $N$개, 채널(channel) $C$개, 그리고 채널마다 높이 $H$ × 너비 $W$의 특성 맵(feature
# map)이 있습니다.
#
# 이런 입력에 쓰는 배치 정규화(batch normalization, BN) 층이 `BatchNorm2d`입니다. 수식은
# [직접 구현하기](02_implement.py)에서 본 네 단계와 똑같고, 달라지는 것은 **통계를 어느 값들에 걸쳐
# 내느냐** 하나뿐입니다. 이번 강의에서는 그 선택이 무엇이고 왜 그렇게 하는지, 모양이 어떻게 바뀌는지를
# 확인하고, `bnref.BatchNorm2d`가 `torch.nn.BatchNorm2d`와 같은 값을 내는지 비교합니다.

# %%
import torch
from IPython.display import Markdown, display

import bnref
from bnref.course.printing import CLOSE_HEADERS, compare, fmt, markdown_table

# %% [markdown]
# ## 실험 데이터: 합성곱 층의 출력
#
# 3채널 6×6 이미지 8장을 만들어 출력 채널이 4개인 3×3 합성곱 층에 통과시킵니다. 가장자리는 반대편
# 값으로 채우는(circular) 패딩을 써서 출력도 6×6이 되게 합니다.

# %%
torch.manual_seed(0)
images = torch.randn(8, 3, 6, 6)  # (N, C_in, H, W)
conv = torch.nn.Conv2d(3, 4, kernel_size=3, padding=1, padding_mode="circular", bias=False)
with torch.no_grad():
    h = conv(images)  # (N, C, H, W) = (8, 4, 6, 6)

print("합성곱 입력:", tuple(images.shape))
print("합성곱 출력:", tuple(h.shape))

# %% [markdown]
# ## 채널마다 (N, H, W)에 걸친 통계
#
# `BatchNorm2d`는 채널 하나에 속한 값을 **모든 샘플과 모든 위치에서** 모아 평균과 분산을 냅니다.
# 채널 $c$의 평균과 분산은
#
# $$\mu_c = \frac{1}{NHW} \sum_{n, h, w} x_{n c h w}, \qquad
# \sigma_c^2 = \frac{1}{NHW} \sum_{n, h, w} \left(x_{n c h w} - \mu_c\right)^2$$
#
# 입니다. 줄이는 차원은 1번(채널)을 뺀 0, 2, 3번이고, 채널 하나의 통계에 들어가는 값은
# $n = N \cdot H \cdot W$개입니다. 분산은 이번에도 $n$으로 나누는 편향 분산(biased variance)입니다.

# %%
mean = h.mean(dim=(0, 2, 3))  # (N, C, H, W) -> (C,)
var = h.var(dim=(0, 2, 3), unbiased=False)  # 편향 분산: n으로 나눔
n = h.shape[0] * h.shape[2] * h.shape[3]

print("채널 하나의 값 개수 n = N·H·W =", n)
print("채널별 평균:", fmt(mean), "모양", tuple(mean.shape))
print("채널별 분산:", fmt(var), "모양", tuple(var.shape))

# %% [markdown]
# 정규화할 때는 $(C,)$ 모양의 통계를 $(1, C, 1, 1)$로 바꿔 $(N, C, H, W)$에 브로드캐스팅합니다.
# 그러면 각 값에서 **자기 채널의** 평균을 빼고 자기 채널의 표준편차로 나누게 됩니다.

# %%
eps = 1e-5
x_hat = (h - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + eps)

print("x̂ 채널별 평균:", fmt(x_hat.mean(dim=(0, 2, 3))))
print("x̂ 채널별 분산:", fmt(x_hat.var(dim=(0, 2, 3), unbiased=False)))

# %% [markdown]
# ## 왜 위치마다가 아니라 채널마다인가
#
# `BatchNorm1d`를 떠올리면, $(N, C, H, W)$를 $(N, C \cdot H \cdot W)$로 펼쳐서 값 하나하나를 별개의
# 특성으로 보고 정규화하는 방법도 생각할 수 있습니다. 그러면 (채널, 위치)마다 통계가 따로 생깁니다.
# `BatchNorm2d`가 그렇게 하지 않는 까닭은 합성곱의 **가중치 공유**(weight sharing)에 있습니다.
#
# 합성곱 층은 채널마다 필터 하나를 이미지의 모든 위치에 똑같이 밀어 가며 적용합니다. 그래서 한 채널의
# 값은 어느 위치에 있든 "같은 특성이 여기에 얼마나 있는가"라는 같은 뜻을 나타냅니다. 같은 특성이라면
# 같은 기준으로 정규화해야 합니다. 위치마다 다른 평균과 분산, 다른 γ와 β를 쓰면, 모서리에 나타난
# 고양이 귀와 한가운데 나타난 고양이 귀가 서로 다른 값으로 바뀌어 다음 층에 전달됩니다. 입력이
# 옮겨 가면 출력도 그대로 옮겨 가는 합성곱의 성질이 깨지는 것입니다.
#
# 통계의 질도 다릅니다. 위치마다 통계를 내면 통계 하나에 샘플 수 $N$개의 값만 들어갑니다. 채널마다
# 내면 $N \cdot H \cdot W$개가 들어갑니다. 위의 데이터에서 두 방법을 비교해 봅니다. 입력 이미지는 모든
# 위치에서 같은 분포로 뽑았고, 반대편 값으로 채우는 패딩 덕분에 가장자리도 가운데와 똑같이 계산됩니다.
# 그러므로 위치마다 낸 평균이 서로 다른 것은 순전히 값이 적어서 생긴 잡음입니다.

# %%
mean_per_position = h.mean(dim=0)  # (N, C, H, W) -> (C, H, W): 위치마다 따로
print("통계의 개수: 채널마다", mean.numel(), "개, 위치마다", mean_per_position.numel(), "개")
print("통계 하나에 들어가는 값: 채널마다", n, "개, 위치마다", h.shape[0], "개")
print("γ, β의 개수(각각): 채널마다", mean.numel(), "개, 위치마다", mean_per_position.numel(), "개")

channel_0 = mean_per_position[0].flatten()  # 채널 0의 36개 위치
print(f"채널 0의 평균: 채널마다 {fmt(mean[0])}, "
      f"위치마다 {fmt(channel_0.min())} ~ {fmt(channel_0.max())}")

# %% [markdown]
# 위치마다 낸 평균은 같은 특성의 평균인데도 위치에 따라 크게 흔들립니다. 이런 값으로 정규화하면
# 그 잡음이 그대로 출력에 섞입니다. 채널마다 통계를 내면 값이 훨씬 많이 모여 안정적이고, 파라미터
# 수도 채널 수만큼으로 작게 유지됩니다.

# %% [markdown]
# ## 모양 정리
#
# `BatchNorm2d(C)` 층이 들고 있는 것은 모두 채널마다 하나씩, 모양 $(C,)$입니다.

# %%
bn = bnref.BatchNorm2d(4)
for name, t in [("weight (γ)", bn.weight), ("bias (β)", bn.bias),
                ("running_mean", bn.running_mean), ("running_var", bn.running_var)]:
    print(f"{name:13s}", tuple(t.shape))
print("입력과 출력:", tuple(h.shape), "->", tuple(bn(h).shape))

# %% [markdown]
# | 무엇 | 모양 |
# | --- | --- |
# | 입력 $x$, 출력 $y$ | $(N, C, H, W)$ |
# | 배치 평균 $\mu$, 배치 분산 $\sigma^2$ | $(C,)$, 계산할 때는 $(1, C, 1, 1)$로 브로드캐스팅 |
# | 스케일 γ, 시프트 β | $(C,)$ |
# | 이동 평균, 이동 분산 | $(C,)$ |

# %% [markdown]
# ## bnref와 nn.BatchNorm2d로 확인하기
#
# 이제 같은 출력 `h`를 `bnref.BatchNorm2d`와 `torch.nn.BatchNorm2d`에 넣고, γ와 β를 채널마다 다른
# 값으로 맞춘 뒤 결과를 비교합니다. 출력뿐 아니라 한 스텝 뒤의 이동 통계(running statistics)와, 간단한 손실로 구한
# 기울기까지 표 하나로 봅니다. 표의 "거의 같은가"는 `torch.allclose`, "가장 큰 차이"는 절댓값 차이의
# 최댓값입니다. 두 구현은 값을 더하는 순서가 달라서 마지막 비트까지 같기를 기대할 수는 없습니다.
# 그래서 부동소수점 결과는 반올림 오차 범위 안에서 같은지로 판단합니다.

# %%
gamma = torch.tensor([2.0, 0.5, 1.0, 3.0])
beta = torch.tensor([10.0, -3.0, 0.0, 1.0])
torch.manual_seed(1)
upstream = torch.randn(h.shape)  # 손실 = Σ(y · upstream)의 기울기 dy


def run(bn_class, x):
    """층을 새로 만들어 γ, β를 맞추고 학습 모드로 한 번 부른 뒤, 출력·이동 통계·기울기를 돌려줍니다."""
    bn = bn_class(4)
    with torch.no_grad():
        bn.weight.copy_(gamma)
        bn.bias.copy_(beta)
    x = x.clone().requires_grad_(True)
    y = bn(x)
    (y * upstream).sum().backward()
    return {"출력 y": y, "running_mean": bn.running_mean, "running_var": bn.running_var,
            "dx": x.grad, "dγ": bn.weight.grad, "dβ": bn.bias.grad}


def cmp(name, a, b):
    """float32 결과 비교: 상대·절대 허용 오차 모두 1e-5 (절대 오차는 0에 가까운 이동 평균과 기울기를 위해)."""
    return compare(name, a, b, atol=1e-5, exact=False)


ours = run(bnref.BatchNorm2d, h)
theirs = run(torch.nn.BatchNorm2d, h)
display(Markdown(markdown_table(CLOSE_HEADERS, [cmp(k, ours[k], theirs[k]) for k in ours])))

# %%
y = ours["출력 y"].detach()
print("bnref 출력의 채널별 평균:     ", fmt(y.mean(dim=(0, 2, 3))))
print("bnref 출력의 채널별 표준편차: ", fmt(y.std(dim=(0, 2, 3), unbiased=False)))
print("한 스텝 뒤 running_mean:", fmt(ours["running_mean"]))
print("한 스텝 뒤 running_var: ", fmt(ours["running_var"]))
print("공식 0.9·1 + 0.1·불편 분산:", fmt(0.9 + 0.1 * h.var(dim=(0, 2, 3))))

# %% [markdown]
# 모든 줄이 "거의 같다"입니다. 출력의 채널별 평균은 β, 표준편차는 γ와 일치합니다. 이동 분산에는
# [학습 모드와 평가 모드](03_train_eval.py)에서 본 것처럼 불편 분산(unbiased variance)이 들어가는데,
# 여기서는 $n = N \cdot H \cdot W = 288$이므로 $n/(n-1) = 288/287$의 보정이 아주 작습니다.

# %% [markdown]
# ## 입력의 크기와 ε
#
# 정규화는 입력을 몇 배로 키우거나 줄여도 결과가 같다는 성질이 있습니다. 하지만 이 성질은 분산이
# 엡실론 ε(epsilon)보다 충분히 클 때만 성립합니다. 분모가 $\sqrt{\sigma^2 + \epsilon}$이라서, 분산이 ε에 가까워지면
# 출력의 표준편차가 $\sqrt{\sigma^2 / (\sigma^2 + \epsilon)}$으로 1보다 작아집니다. 같은 `h`를
# 점점 작게 만들어 `bnref.BatchNorm2d`에 넣어 봅니다.

# %%
rows = []
for scale in [1.0, 0.01, 0.003, 0.001]:
    x = h.double() * scale  # float64: 표의 숫자가 반올림 잡음 없이 나오게
    with torch.no_grad():
        out = bnref.BatchNorm2d(4, dtype=torch.float64)(x)
    var = x.var(dim=(0, 2, 3), unbiased=False)
    rows.append([f"h × {scale}", (var / eps).mean(),
                 out.std(dim=(0, 2, 3), unbiased=False).mean(),
                 torch.sqrt(var / (var + eps)).mean()])
display(Markdown(markdown_table(
    ["입력", "분산 / ε (채널 평균)", "출력 표준편차", "√(σ² / (σ² + ε))"], rows)))

# %% [markdown]
# 입력 분산이 ε = $10^{-5}$보다 훨씬 큰 동안에는 출력 표준편차가 1이지만, 분산이 ε과 비슷해지면
# 눈에 띄게 줄어들고, 줄어든 값은 오른쪽 열의 공식과 맞습니다. 크기가 아주 작은 활성값에 BN을
# 쓸 때는 ε도 결과를 바꾸는 하이퍼파라미터(hyperparameter)라는 것을 기억해 두세요.

# %% [markdown]
# ## channels_last: 같은 값, 다른 메모리 배치
#
# PyTorch 텐서의 모양은 논리적인 순서일 뿐이고, 메모리에 값이 놓이는 순서, 즉 메모리 배치(memory
# format)는 따로 정할 수 있습니다.
# 기본(`torch.contiguous_format`)은 $(N, C, H, W)$ 순서 그대로, 즉 한 채널의 특성 맵이 메모리에
# 연달아 놓입니다. `channels_last`는 $(N, H, W, C)$ 순서로, 한 위치의 모든 채널 값이 연달아 놓입니다.
# 합성곱 연산이 이 메모리 배치에서 더 빠른 경우가 많아서 실제 모델에서 자주 씁니다.
#
# 메모리 배치는 스트라이드(stride, 다음 원소로 가려면 메모리에서 몇 칸을 건너뛰는지)로 드러납니다.
# 모양은 그대로입니다.

# %%
h_cl = h.to(memory_format=torch.channels_last)
print("모양:            ", tuple(h.shape), tuple(h_cl.shape))
print("기본 스트라이드: ", h.stride())
print("channels_last:   ", h_cl.stride())
print("값이 같은가:", torch.equal(h, h_cl))

# %% [markdown]
# 배치 정규화의 결과는 메모리 배치와 상관없어야 합니다. `channels_last` 입력을 두 구현에 넣고, 기본
# 메모리 배치로 넣었을 때의 결과와 비교합니다. 출력이 어떤 메모리 배치로 나오는지도 확인합니다.

# %%
ours_cl = run(bnref.BatchNorm2d, h_cl)
theirs_cl = run(torch.nn.BatchNorm2d, h_cl)
rows = [cmp(f"bnref: {k}", ours_cl[k], ours[k]) for k in ("출력 y", "running_var", "dx")]
rows += [cmp(f"torch: {k}", theirs_cl[k], theirs[k]) for k in ("출력 y", "running_var", "dx")]
display(Markdown(markdown_table(["channels_last vs 기본"] + CLOSE_HEADERS[1:], rows)))

for name, result in [("bnref", ours_cl), ("torch", theirs_cl)]:
    y = result["출력 y"]
    print(f"{name} 출력이 channels_last인가:", y.is_contiguous(memory_format=torch.channels_last))

# %% [markdown]
# 메모리 배치를 바꿔도 값은 "거의 같고", 두 구현 모두 출력을 입력과 같은 `channels_last`로
# 돌려줍니다. 다음 층의 합성곱도 그 메모리 배치를 그대로 이어받을 수 있습니다. 여기서도 비트 단위의
# 일치는 기대하지 않습니다. 합을 더하는 순서가 메모리 배치에 따라 달라지기 때문입니다.
#
# 다음 강의 [역전파 유도](06_backward.py)에서는 위 표의 기울기 dx, dγ, dβ가 어떤 식으로 나오는지
# 직접 유도합니다.

# %% [markdown]
# ## 연습 문제
#
# **1.** 모양이 $(32, 64, 28, 28)$인 입력에 `BatchNorm2d(64)`를 쓰면, 채널 하나의 통계에 값이 몇 개
# 들어갈까요? 이동 분산을 갱신할 때 쓰는 보정 계수 $n/(n-1)$은 얼마일까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# $n = 32 \cdot 28 \cdot 28 = 25088$개입니다. 보정 계수는 $25088/25087 \approx 1.00004$로, 배치 통계가
# 샘플 4개로 계산될 때의 $4/3$과 달리 거의 1입니다.
#
# </details>
#
# **2.** `BatchNorm2d(C)`를 쓰지 않고 `BatchNorm1d`로 같은 일을 하려면 입력을 어떻게 바꿔야 할까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 채널을 마지막 축으로 보내고 나머지를 한 축으로 펼쳐 $(N \cdot H \cdot W, C)$로 만들면, 샘플 축에
# 걸친 `BatchNorm1d(C)`의 통계가 곧 채널마다 $(N, H, W)$에 걸친 통계가 됩니다.
#
# ```python
# x2 = x.permute(0, 2, 3, 1).reshape(-1, C)          # (N·H·W, C)
# y = bn1d(x2).reshape(N, H, W, C).permute(0, 3, 1, 2)
# ```
#
# `x.flatten(2)`로 $(N, C, H \cdot W)$ 모양을 만들어 `BatchNorm1d`에 넣어도 됩니다. 3차원 입력이면 0번과
# 2번 축에 걸쳐 통계를 내기 때문입니다.
#
# </details>
#
# **3.** 위치마다 통계를 내는 방식이 오히려 자연스러운 경우도 있을까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 있습니다. 가중치를 공유하지 않는 층이 그렇습니다. 예를 들어 위치마다 다른 필터를 쓰는 층(locally
# connected layer)의 출력은 같은 채널이라도 위치마다 다른 파라미터로 만들어져 뜻이 다르므로, (채널,
# 위치)마다 통계를 내는 것이 자연스럽습니다. 펼친 이미지에 바로 붙인 선형층(`Linear`)도 마찬가지로,
# 뉴런마다 뜻이 다르므로 뉴런마다 통계를 내는 `BatchNorm1d`가 맞습니다. 기준은 "같은 파라미터로
# 만들어져 같은 뜻을 가지는 값끼리 통계를 묶는다"입니다.
#
# </details>

# %% [markdown]
# ## 직접 구현해 보기
#
# 학습 모드의 `BatchNorm2d`를 함수로 직접 써 보세요.
#
# - `x`: 모양이 $(N, C, H, W)$인 입력
# - `gamma`, `beta`: 모양이 $(C,)$인 γ와 β
# - 돌려줄 값: `x`와 모양이 같은 출력 `y`
#
# `check.batch_norm_2d`는 작은 입력, `channels_last` 입력, 값이 모두 같은 채널, 잘라 내서 메모리에서
# 연속이 아닌(non-contiguous) 입력으로 시험합니다. 틀렸다면 통계를 위치마다, 샘플마다, 샘플과 채널마다 낸 구현과도
# 비교해서 값을 어느 쪽으로 잘못 모았는지 알려 줍니다.

# %%
import torch

from bnref.course import check


def batch_norm_2d(x, gamma, beta, eps=1e-5):
    """학습 모드의 BatchNorm2d. x: (N, C, H, W), gamma·beta: (C,) -> y: (N, C, H, W)"""
    ...  # 여기를 채우세요


# %%
result = check.batch_norm_2d(batch_norm_2d)

# %% fold="답 보기"
def batch_norm_2d(x, gamma, beta, eps=1e-5):
    """학습 모드의 BatchNorm2d. x: (N, C, H, W), gamma·beta: (C,) -> y: (N, C, H, W)"""
    mean = x.mean(dim=(0, 2, 3), keepdim=True)  # (N, C, H, W) -> (1, C, 1, 1)
    var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)  # 편향 분산: n = N·H·W로 나눔
    x_hat = (x - mean) / torch.sqrt(var + eps)
    return gamma.view(1, -1, 1, 1) * x_hat + beta.view(1, -1, 1, 1)


result = check.batch_norm_2d(batch_norm_2d)
