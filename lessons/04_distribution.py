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
# # 분포로 보기
#
# 앞의 강의들에서는 샘플 4개짜리 작은 미니배치(mini-batch)로 숫자를 하나하나 확인했습니다. 이번에는
# 샘플 4096개를 모아, 배치 정규화(batch normalization)가 분포 전체를 어떻게 옮기는지 히스토그램으로
# 봅니다. 정규화 전, 정규화 후, 그리고 스케일(scale) γ와 시프트(shift) β를 적용한 후의 세 분포를 비교합니다.
#
# 그림의 제목과 축 이름은 한국어입니다. matplotlib의 기본 글꼴에는 한글이 없으므로, 그림을 그리기 전에
# `bnref.course.viz.use_korean_font()`를 한 번 불러 한글 글꼴(나눔고딕)을 설정합니다. 어떻게 설정하는지
# 궁금하다면 `bnref.course.viz`의 설명을 보세요.

# %%
import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

import bnref
from bnref.course.printing import fmt, markdown_table
from bnref.course.viz import use_korean_font

use_korean_font()

# %% [markdown]
# ## 데이터: 평균 50, 표준편차 10인 샘플 4096개
#
# 특성이 하나인 미니배치로 만들기 위해 모양을 $(N, C) = (4096, 1)$로 둡니다. 평균이 크고 넓게 퍼진,
# 다음 층이 다루기 불편한 입력을 일부러 만든 것입니다.

# %%
torch.manual_seed(0)
x = torch.randn(4096, 1) * 10 + 50  # (N, C) = (4096, 1)

# %% [markdown]
# ## 정규화, 그리고 γ와 β
#
# 정규화만 한 값 $\hat{x}$은 γ와 β를 주지 않고(`weight=None`, `bias=None`) 구합니다. 그다음 스케일
# γ = 12, 시프트 β = 40을 주어 $y = \gamma \hat{x} + \beta$를 구합니다. 둘 다 `bnref.functional.batch_norm`을
# 학습 모드(training mode)로 부르므로 이 미니배치의 평균과 편향 분산(biased variance, $n$으로 나눈
# 분산)으로 정규화합니다.

# %%
gamma = torch.tensor([12.0])  # 스케일 γ
beta = torch.tensor([40.0])  # 시프트 β

x_hat = bnref.functional.batch_norm(x, None, None, training=True)
y = bnref.functional.batch_norm(x, None, None, weight=gamma, bias=beta, training=True)

print("y = γ·x̂ + β인가:", torch.allclose(y, gamma * x_hat + beta, atol=1e-4))

# %% [markdown]
# ## 히스토그램 세 개
#
# 세 분포를 나란히 그립니다. 같은 일을 세 번 하므로 히스토그램 하나를 그리는 함수를 먼저 만듭니다.
# 제목에는 평균과 표준편차를 함께 적습니다. 이 강좌에서 표준편차는 언제나 편향 분산의 제곱근입니다.

# %%
def stats(t):
    """평균, 표준편차, 분산 (편향 분산: n으로 나눔)."""
    return t.mean().item(), t.std(unbiased=False).item(), t.var(unbiased=False).item()


def histogram(ax, t, title):
    mean, std, _ = stats(t)
    ax.hist(t.flatten().numpy(), bins=60, histtype="stepfilled")
    ax.set_title(f"{title}\n평균 {fmt(mean, 2)}, 표준편차 {fmt(std, 2)}")
    ax.set_xlabel("값")
    ax.set_ylabel("빈도")


fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.4))
histogram(axes[0], x, "정규화 전 (x)")
histogram(axes[1], x_hat, "정규화 후 (x̂)")
histogram(axes[2], y, f"γ = {gamma.item():g}, β = {beta.item():g} 적용 후 (y)")
fig.tight_layout()
plt.show()

# %% [markdown]
# 세 히스토그램의 **모양**이 똑같다는 것을 눈여겨보세요. 달라진 것은 가로축의 눈금뿐입니다. 한
# 미니배치 안에서 배치 정규화는 값마다 같은 수를 빼고 같은 양수로 나누는 아핀 변환(affine transform)이라서,
# 분포를 옮기고 늘이거나 줄일 뿐 모양은 건드리지 않습니다.
#
# 이번에는 세 분포를 한 축 위에 겹쳐 그려, 위치와 폭이 어떻게 바뀌는지 봅니다.

# %%
fig, ax = plt.subplots()
for t, label in [(x, "정규화 전 (x)"), (x_hat, "정규화 후 (x̂)"), (y, "γ, β 적용 후 (y)")]:
    ax.hist(t.flatten().numpy(), bins=60, histtype="stepfilled", alpha=0.6, label=label)
ax.set_title("한 축에서 본 세 분포")
ax.set_xlabel("값")
ax.set_ylabel("빈도")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# 정규화 전의 분포는 50 근처에 넓게 퍼져 있습니다. 정규화하면 0을 중심으로 폭이 좁은 분포가 되고,
# γ와 β를 적용하면 β를 중심으로 표준편차가 γ인 분포로 다시 옮겨집니다. γ와 β는 학습으로 정해지므로,
# 다음 층에 알맞은 위치와 폭을 네트워크가 스스로 고를 수 있습니다.

# %% [markdown]
# ## 요약 표
#
# 세 분포의 평균, 표준편차, 분산을 표로 정리합니다.

# %%
rows = [
    ["정규화 전 x", *stats(x)],
    ["정규화 후 x̂", *stats(x_hat)],
    [f"γ = {gamma.item():g}, β = {beta.item():g} 적용 후 y", *stats(y)],
]
display(Markdown(markdown_table(["분포", "평균", "표준편차", "분산"], rows)))

# %% [markdown]
# 정규화 후에는 평균 0, 분산 1이고, γ와 β를 적용한 후에는 평균이 β, 표준편차가 γ, 분산이 $\gamma^2$입니다.
#
# $$\operatorname{E}[y] = \gamma \operatorname{E}[\hat{x}] + \beta = \beta, \qquad
# \operatorname{Var}[y] = \gamma^2 \operatorname{Var}[\hat{x}] = \gamma^2$$

# %% [markdown]
# ## 정규분포로 바꿔 주는 것은 아니다
#
# "정규화"라는 이름 때문에 배치 정규화가 분포를 정규분포(normal distribution, 가우스 분포)로 바꿔
# 준다고 오해하기 쉽습니다. 위에서 본 것처럼 배치 정규화는 모양을 건드리지 않으므로, 치우친 분포는 정규화한 뒤에도
# 똑같이 치우쳐 있습니다. 오른쪽으로 꼬리가 긴 지수분포에서 샘플을 뽑아 확인해 봅니다. 분포가 한쪽으로
# 치우친 정도는 왜도(skewness) $\operatorname{E}[(x - \mu)^3] / \sigma^3$로 잽니다.

# %%
def skewness(t):
    mean, std, _ = stats(t)
    return (((t - mean) / std) ** 3).mean().item()


torch.manual_seed(0)
skewed = torch.empty(4096, 1).exponential_(1.0) * 10  # 오른쪽으로 꼬리가 긴 분포
skewed_hat = bnref.functional.batch_norm(skewed, None, None, training=True)

print("정규화 전 왜도:", fmt(skewness(skewed), 2))
print("정규화 후 왜도:", fmt(skewness(skewed_hat), 2))

fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.2))
histogram(axes[0], skewed, "치우친 분포")
histogram(axes[1], skewed_hat, "정규화 후")
fig.tight_layout()
plt.show()

# %% [markdown]
# 정규화 후에도 왜도가 그대로이고, 히스토그램의 모양도 같습니다. 배치 정규화가 맞춰 주는 것은 평균과
# 분산, 두 가지뿐입니다.

# %% [markdown]
# ## 연습 문제
#
# **1.** 위 표에서 $\hat{x}$의 분산을 불편 분산(unbiased variance, $n-1$로 나눈 분산)으로 재면 얼마가
# 될까요? 샘플 4개일 때와 비교해 보세요.
#
# <details markdown="1">
# <summary>풀이</summary>
#
# $n/(n-1) = 4096/4095$배, 즉 1보다 아주 조금 큰 값이 됩니다. 샘플이 4개일 때는 $4/3$배였습니다.
# 미니배치가 클수록 두 분산의 차이는 작아지지만, 샘플이 적은 미니배치에서는 큰 차이가 납니다.
#
# </details>
#
# **2.** γ = −12, β = 40이면 히스토그램은 어떻게 될까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 평균은 40, 표준편차는 $|\gamma| = 12$로 같지만, 값의 순서가 뒤집혀 분포가 좌우로 반전됩니다.
# 위 예처럼 좌우 대칭에 가까운 분포라면 겉보기에는 거의 같고, 치우친 분포라면 꼬리가 반대쪽으로 갑니다.
#
# </details>
#
# **3.** 정규화 후 분포가 평균 0, 분산 1인데, 왜 굳이 γ와 β로 다시 옮길까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 다음 층에 가장 좋은 분포가 평균 0, 분산 1이라는 보장이 없기 때문입니다. 예를 들어 ReLU 앞에서
# 평균이 0이면 값의 절반쯤이 0으로 잘리는데, 그것이 늘 좋은 것은 아닙니다. γ와 β는 학습으로 정해지므로,
# 네트워크가 필요한 위치와 폭을 스스로 고를 수 있습니다.
#
# γ와 β는 정규화를 되돌릴 수도 있습니다. 데이터 전체에 대한 그 특성의 평균과 분산을 모집단 통계(population
# statistics)라고 하는데, γ가 $\sqrt{\operatorname{Var}[x] + \epsilon}$, β가 $\operatorname{E}[x]$이면
# 모집단 통계로 정규화한 값이 원래 값으로 돌아갑니다. 평가 모드는 모집단 통계의 추정값인 이동 통계로
# 정규화하므로, γ와 β를 이동 통계에 맞추면 정확히 되돌아옵니다. 하지만 학습 모드에서 미니배치마다 달라지는
# 배치 통계는 고정된 γ, β로 되돌릴 수 없습니다.
#
# </details>
