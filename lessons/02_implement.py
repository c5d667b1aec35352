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
# # 직접 구현하기
#
# [앞 강의](01_why_normalize.py)에서 본 배치 정규화(batch normalization)의 네 단계를 이번에는
# 코드로 한 줄씩 옮깁니다. 작은 미니배치(mini-batch) 하나로 배치 평균, 배치 분산, 정규화,
# 스케일(scale) γ와 시프트(shift) β를 차례로 계산하고, 마지막에 그 결과가 이 강좌의 참조 구현 `bnref`,
# 그리고 PyTorch의 `nn.BatchNorm1d`와 같은 값인지 확인합니다.
#
# 숫자는 모두 소수점 넷째 자리까지 반올림해서 보여 줍니다. `fmt`는 그 일만 하는 작은
# 함수이고, `markdown_table`은 숫자를 같은 방식으로 반올림해 표로 만듭니다.

# %%
import torch
from IPython.display import Markdown, display

import bnref
from bnref.course.printing import COMPARE_HEADERS, compare, fmt, markdown_table

# %% [markdown]
# ## 실험 데이터: 샘플 4개, 특성 3개
#
# 평균이 50 근처, 표준편차가 10 근처인 값으로 4×3 텐서를 만듭니다. 행 하나가 샘플 하나,
# 열 하나가 특성 하나입니다. 모양으로 쓰면 $(N, C) = (4, 3)$입니다. 시드를 고정했으므로 같은 환경에서는
# 몇 번을 실행해도 같은 값이 나옵니다. PyTorch의 버전이나 기계가 다르면 값이 조금 다를 수 있습니다.

# %%
torch.manual_seed(0)
x = torch.randn(4, 3) * 10 + 50  # (N, C) = (4, 3)
print(fmt(x))

# %% [markdown]
# ## 1단계와 2단계: 배치 평균과 배치 분산
#
# 통계는 **특성마다**, 즉 열마다 냅니다. 샘플 방향인 0번 차원을 따라 줄이므로 `dim=0`을
# 씁니다. 모양은 $(4, 3)$에서 $(3,)$이 됩니다.
#
# 분산을 구하는 방법은 두 가지입니다.
#
# - **편향 분산(biased variance)**: 편차 제곱의 합을 $n$으로 나눕니다. 이름의 "편향"은 층의 편향(bias)과
#   상관없고, 이 분산으로 데이터 전체의 분산을 추정하면 평균적으로 조금 작게 나온다는 뜻입니다.
#   `x.var(dim=0, unbiased=False)`
# - **불편 분산(unbiased variance)**: $n - 1$로 나눕니다. 샘플 몇 개로 데이터 전체의 분산을 추정할 때
#   쓰며, `x.var(dim=0)`이 기본으로 구하는 분산입니다.
#
# 정규화에 쓰는 것은 **편향 분산**입니다. 지금 이 미니배치의 값들이 실제로 얼마나 퍼져 있는지를
# 그대로 재야, 정규화한 결과의 분산이 정확히 1이 되기 때문입니다.

# %%
mean = x.mean(dim=0)  # (N, C) -> (C,)
var = x.var(dim=0, unbiased=False)  # 편향 분산: n으로 나눔

print("배치 평균:         ", fmt(mean))
print("편향 분산 (÷n):    ", fmt(var))
print("불편 분산 (÷(n−1)):", fmt(x.var(dim=0)))
print("불편 / 편향:       ", fmt(x.var(dim=0) / var))

# %% [markdown]
# 두 분산의 비는 $n/(n-1) = 4/3$입니다. 샘플이 4개뿐인 작은 미니배치에서는 불편 분산이 편향 분산보다
# 33%나 큽니다. 어느 분산을 쓰느냐가 결과를 눈에 띄게 바꾼다는 뜻이니, 둘을 꼭 구별해서 기억해 두세요.
# 불편 분산은 다음 강의 [학습 모드와 평가 모드](03_train_eval.py)에서 다시 등장합니다.

# %% [markdown]
# ## 3단계: 정규화
#
# $$\hat{x}_i = \frac{x_i - \mu_\mathcal{B}}{\sqrt{\sigma_\mathcal{B}^2 + \epsilon}}$$
#
# 엡실론 $\epsilon$(epsilon)은 분산이 0이어도 나눗셈이 안전하도록 더하는 아주 작은 수입니다.
# PyTorch와 같은 $10^{-5}$를 씁니다. `mean`과 `var`의 모양은 $(3,)$이고 `x`는 $(4, 3)$이지만,
# 브로드캐스팅(broadcasting) 덕분에 각 열에서 그 열의 평균을 빼고 그 열의 표준편차로 나누게 됩니다.

# %%
eps = 1e-5
x_hat = (x - mean) / torch.sqrt(var + eps)

print(fmt(x_hat))
print("x̂ 평균:", fmt(x_hat.mean(dim=0)))
print("x̂ 분산:", fmt(x_hat.var(dim=0, unbiased=False)))

# %% [markdown]
# 세 특성 모두 평균 0, 분산 1이 되었습니다. 실제로 계산된 평균은 정확히 0이 아니라 0에 아주 가까운
# 수인데, 이것은 부동소수점 반올림 오차입니다. 분산도 ε 때문에 1보다 아주 조금 작습니다. 둘 다 넷째
# 자리에는 드러나지 않으므로 `0.0000`, `1.0000`으로 보입니다.

# %% [markdown]
# ## 4단계: 스케일 γ와 시프트 β
#
# $$y_i = \gamma \hat{x}_i + \beta$$
#
# 스케일 γ와 시프트 β는 특성마다 하나씩 있는 학습 가능한 파라미터입니다. 처음 값은
# $\gamma = 1$, $\beta = 0$이라서, 학습을 시작할 때는 정규화된 값이 그대로 나갑니다.

# %%
gamma = torch.ones(3)  # 스케일 γ
beta = torch.zeros(3)  # 시프트 β
y = gamma * x_hat + beta

print("처음에는 y와 x̂이 같은가:", torch.equal(y, x_hat))

# %% [markdown]
# 학습이 진행되면 γ와 β가 바뀝니다. 특성마다 다른 값을 넣어 보면, 출력의 평균은 β가 되고
# 표준편차는 γ가 된다는 것을 확인할 수 있습니다. 지금까지의 네 단계를 함수 하나로 묶어 두고
# 써 보겠습니다.

# %%
def batch_norm_by_hand(x, gamma, beta, eps=1e-5):
    """학습 모드 배치 정규화의 네 단계. x: (N, C), gamma·beta: (C,)."""
    mean = x.mean(dim=0)  # 1. 배치 평균
    var = x.var(dim=0, unbiased=False)  # 2. 배치 분산 (편향 분산)
    x_hat = (x - mean) / torch.sqrt(var + eps)  # 3. 정규화
    return gamma * x_hat + beta  # 4. 스케일과 시프트


gamma = torch.tensor([2.0, 0.5, 1.0])
beta = torch.tensor([10.0, -3.0, 0.0])
y = batch_norm_by_hand(x, gamma, beta)

print("출력 평균:    ", fmt(y.mean(dim=0)))
print("출력 표준편차:", fmt(y.std(dim=0, unbiased=False)))

# %% [markdown]
# ## 입력과 출력의 평균과 분산
#
# 이제 입력 `x`와 출력 `y`의 평균과 분산을 나란히 놓고 비교합니다. γ = 1, β = 0으로 돌려놓고
# 정규화만의 효과를 봅니다.
#
# 여기서 흔한 실수가 하나 있습니다. "입력 평균/분산"을 출력하려다 입력 `x` 대신 **바로 위 줄에서 계산한
# 출력** `y`를 넣어도 에러 없이 실행됩니다. 그러면 입력의 분산이 이미 `1.0000`으로 찍혀, 정규화가 아무
# 일도 하지 않은 것처럼 보입니다. 노트북에서는 앞 셀에서 만든 변수도 그대로 남아 있어서 이런 실수가 더
# 잘 숨습니다. 이름이 비슷한 변수를 다시 쓸 때는 지금 가리키는 것이 무엇인지 한 번 더 확인하세요.

# %%
y = batch_norm_by_hand(x, torch.ones(3), torch.zeros(3))

print("입력 평균:", fmt(x.mean(dim=0)))
print("입력 분산:", fmt(x.var(dim=0, unbiased=False)))
print("-" * 40)
print("출력 평균:", fmt(y.mean(dim=0)))
print("출력 분산:", fmt(y.var(dim=0, unbiased=False)))
print("출력 분산을 불편 분산으로 재면:", fmt(y.var(dim=0)))

# %% [markdown]
# 입력은 특성마다 평균과 분산이 제각각이었지만, 출력은 모든 특성이 평균 0, 분산 1입니다.
#
# 마지막 줄을 보세요. 같은 출력이라도 불편 분산으로 재면 1이 아니라 $4/3$이 나옵니다. 배치
# 정규화는 편향 분산으로 정규화했으므로, 결과도 편향 분산으로 재야 1이 됩니다. "분산이 1"이라고
# 말할 때는 어느 분산인지까지 함께 생각해야 합니다.

# %% [markdown]
# ## bnref와 nn.BatchNorm1d로 확인하기
#
# 이제 같은 미니배치를 `bnref.BatchNorm1d`와 PyTorch의 `torch.nn.BatchNorm1d`에 넣어 봅니다.
# PyTorch는 γ와 β를 `weight`와 `bias`라고 부릅니다. 두 층의 γ와 β를 4단계에서 `batch_norm_by_hand`에
# 넣었던 값, 곧 γ = (2, 0.5, 1)과 β = (10, −3, 0)으로 맞춥니다. 바로 앞 절에서 정규화만 보려고 넣은
# γ = 1, β = 0이 아닙니다(변수 `gamma`와 `beta`에는 4단계의 값이 그대로 들어 있습니다). 새로 만든 층은
# 학습 모드(training mode)이므로 지금 들어온 미니배치의 통계로 정규화합니다.
#
# 두 결과를 비교할 때는 "정확히 같은가"(`torch.equal`)보다 "허용 오차 안에서 같은가"
# (`torch.allclose`)를 봅니다. 같은 수식이라도 계산 순서가 조금 다르면 float32의 마지막 자리 반올림이
# 달라질 수 있기 때문입니다. `bnref.course.printing.compare`는 두 가지와 가장 큰 차이를 표의 한 줄로
# 만들어 줍니다.

# %%
bn_ref = bnref.BatchNorm1d(3)
bn_torch = torch.nn.BatchNorm1d(3)
with torch.no_grad():  # 파라미터에 값을 직접 넣을 때는 기울기 기록을 끕니다.
    for bn in (bn_ref, bn_torch):
        bn.weight.copy_(gamma)
        bn.bias.copy_(beta)
    y_ref = bn_ref(x)
    y_torch = bn_torch(x)
y_hand = batch_norm_by_hand(x, gamma, beta)

print("bnref 출력 평균:    ", fmt(y_ref.mean(dim=0)))
print("bnref 출력 표준편차:", fmt(y_ref.std(dim=0, unbiased=False)))
display(Markdown(markdown_table(COMPARE_HEADERS, [
    compare("직접 구현 vs bnref", y_hand, y_ref),
    compare("bnref vs nn.BatchNorm1d", y_ref, y_torch),
])))

# %% [markdown]
# 직접 구현한 네 단계, `bnref`, PyTorch가 허용 오차 안에서 모두 같은 값을 냅니다. 마지막 자리까지
# 똑같지 않더라도, 가장 큰 차이가 넷째 자리에도 나타나지 않을 만큼 작습니다. `bnref`의 출력 평균은 β,
# 표준편차는 γ와 일치합니다. 학습 모드의 `nn.BatchNorm1d`가 정규화로 하는 일이 바로 위의 네 줄짜리
# 함수라는 뜻입니다. 여기에 더해 층은 γ와 β를 학습 가능한 파라미터로 들고 있고, 학습 중에는 이동 평균(running
# mean)과 이동 분산(running variance)을 기록합니다. 그 기록이 무엇에 쓰이는지는 다음 강의에서
# 다룹니다.

# %% [markdown]
# ## ε이 하는 일: 값이 모두 같은 특성
#
# 엡실론 ε이 정말 필요한지 확인해 보겠습니다. 세 번째 특성의 값을 모두 7로 바꿔, 미니배치 안에서
# 그 특성의 분산이 0이 되게 만듭니다. 실제로도 배치 정규화를 ReLU 뒤에 두는 망에서는, ReLU를 지난 특성이 한
# 미니배치 안에서 모두 0이 되는 일이 드물지 않습니다.

# %%
x_const = x.clone()
x_const[:, 2] = 7.0  # 세 번째 특성: 분산 0

m = x_const.mean(dim=0)
v = x_const.var(dim=0, unbiased=False)
print("세 번째 특성의 분산:", fmt(v[2]))
print("ε 없이 정규화:", fmt((x_const - m)[:, 2] / torch.sqrt(v[2])))

bn = bnref.BatchNorm1d(3)
with torch.no_grad():
    y_const = bn(x_const)
print(f"bnref (ε = {bn.eps}):", fmt(y_const[:, 2]))
print("나머지 특성의 분산:", fmt(y_const[:, :2].var(dim=0, unbiased=False)))

# %% [markdown]
# ε이 없으면 $0/0$을 계산하게 되어 결과가 NaN(not a number)이 됩니다. NaN은 한 번 생기면 다음 층,
# 손실, 기울기로 번져 학습 전체를 망가뜨립니다. ε을 더하면 분모가 $\sqrt{10^{-5}}$이 되어
# 결과는 $0$, 즉 γ·0 + β = β가 됩니다. 다른 특성은 ε의 영향을 거의 받지 않습니다.
# 분산이 ε보다 훨씬 큰 특성에서는 ε을 더해도 넷째 자리까지 아무 차이가 없기 때문입니다.

# %% [markdown]
# ## 연습 문제
#
# **1.** 위 4×3 미니배치에서 출력의 분산을 불편 분산으로 재면 왜 $4/3$에 아주 가까운 값이
# 나올까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 출력 $\hat{x}$의 편향 분산은 (ε을 무시하면) 1입니다. 불편 분산은 같은 편차 제곱의 합을
# $n$ 대신 $n-1$로 나눈 것이므로 편향 분산의 $n/(n-1)$배, 즉 $4/3 \approx 1.3333$입니다.
#
# </details>
#
# **2.** `batch_norm_by_hand`에 `gamma = torch.full((3,), 12.0)`, `beta = torch.full((3,), 40.0)`을
# 넣으면 출력의 평균과 표준편차는 얼마가 될까요? 실행하기 전에 예상해 보세요.
#
# <details markdown="1">
# <summary>풀이</summary>
#
# $\hat{x}$의 평균이 0, 표준편차가 1이므로 $y = 12\hat{x} + 40$의 평균은 40, 표준편차는 12입니다.
# [분포로 보기](04_distribution.py)에서 샘플 4096개로 이것을 그림으로 확인합니다.
#
# </details>
#
# **3.** 이미지처럼 모양이 $(N, C, H, W)$인 입력이라면 `batch_norm_by_hand`의 어디를 바꿔야 할까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 채널(channel)마다 $N$, $H$, $W$ 방향의 값을 모두 모아 통계를 내야 하므로, 줄이는 차원을
# `dim=(0, 2, 3)`으로 바꾸고 `keepdim=True`로 모양을 $(1, C, 1, 1)$로 남겨 브로드캐스팅되게 합니다.
# γ와 β도 `gamma.view(1, -1, 1, 1)`처럼 모양을 맞춥니다.
#
# ```python
# mean = x.mean(dim=(0, 2, 3), keepdim=True)
# var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
# ```
#
# </details>

# %% [markdown]
# ## 직접 구현해 보기
#
# 이번에는 위의 코드를 보지 않고 학습 모드의 배치 정규화를 직접 써 보세요. 아래 함수의 `...` 자리를
# 채우면 됩니다.
#
# - `x`: 모양이 $(N, C)$인 미니배치
# - `gamma`, `beta`: 모양이 $(C,)$인 γ와 β
# - 돌려줄 값: `x`와 모양이 같은 출력 `y`
#
# `check.batch_norm_train`이 이 함수를 여러 입력으로 실행해 `bnref`의 결과와 비교합니다. 입력은 흔한
# 실수가 드러나도록 골랐습니다. 샘플이 2개뿐인 미니배치, 샘플 1000개, 평균이 0에서 먼 값, 분산이 0이거나
# ε만큼 작은 특성, 메모리에서 연속이 아닌(non-contiguous) 텐서가 들어 있습니다. 결과가 다르면 흔한
# 실수를 하나씩 흉내 낸 구현들도 같은 입력으로 실행해 보고, 모든 입력에서 여러분의 출력과 같은 것이 있으면 어떤 실수인지 알려 줍니다.

# %%
import torch

from bnref.course import check


def batch_norm_train(x, gamma, beta, eps=1e-5):
    """학습 모드의 배치 정규화. x: (N, C), gamma·beta: (C,) -> y: (N, C)"""
    ...  # 여기를 채우세요


# %%
result = check.batch_norm_train(batch_norm_train)

# %% [markdown]
# 아직 아무것도 채우지 않았으므로 검사기는 위처럼 답합니다. 함수를 채운 뒤 두 셀을 다시 실행해 보세요.
# 답은 아래에 접어 두었습니다.

# %% fold="답 보기"
def batch_norm_train(x, gamma, beta, eps=1e-5):
    """학습 모드의 배치 정규화. x: (N, C), gamma·beta: (C,) -> y: (N, C)"""
    mean = x.mean(dim=0)  # (N, C) -> (C,)
    var = x.var(dim=0, unbiased=False)  # 편향 분산: n으로 나눔
    x_hat = (x - mean) / torch.sqrt(var + eps)
    return gamma * x_hat + beta


result = check.batch_norm_train(batch_norm_train)
