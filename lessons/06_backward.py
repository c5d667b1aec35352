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
# # 역전파 유도
#
# PyTorch의 자동 미분(autograd)은 배치 정규화(batch normalization)의 기울기(gradient)도 알아서
# 계산해 줍니다. 그런데도 직접 유도해 볼 가치가 있습니다. 배치 정규화의 역전파(backpropagation)에는
# 보통의 층에는 없는 성질이 있기 때문입니다. 출력 하나하나가 미니배치(mini-batch)의 **모든** 샘플에
# 달려 있습니다. 평균과 분산이 미니배치 전체로 계산되니까요. 그래서 샘플 하나의 기울기에도 다른
# 샘플들의 기울기가 섞여 들어옵니다.
#
# 이번 강의에서는 먼저 계산을 작은 단계로 쪼갠 계산 그래프(computational graph)를 따라 연쇄
# 법칙(chain rule)으로 한 단계씩 기울기를 구하고, autograd와 비교합니다. 그다음 그 결과를 정리해
# `bnref`가 쓰는 한 줄짜리 공식을 얻고, 마지막으로 그 공식에서 나오는 성질 하나를 살펴봅니다.

# %%
import inspect

import torch
from IPython.display import Markdown, display

import bnref
from bnref.course.printing import CLOSE_HEADERS, COMPARE_HEADERS, compare, fmt, markdown_table

# %% [markdown]
# ## 실험 데이터
#
# 샘플 8개, 특성 3개인 입력과 특성마다 다른 γ, β를 준비합니다. 기울기를 비교할 때 반올림 오차가
# 끼어들지 않도록 모두 float64로 계산합니다. 손실은 $L = \sum_i y_i \cdot u_i$로 정합니다. 그러면
# 출력에 대한 기울기 $\partial L / \partial y$가 바로 무작위로 뽑은 $u$(코드의 `upstream`)가 되어,
# 어떤 기울기가 위에서 흘러 들어와도 성립하는 계산을 확인할 수 있습니다.

# %%
torch.manual_seed(0)
N, C = 8, 3
x = (torch.randn(N, C) * 2 + 1).double().requires_grad_(True)  # (N, C)
gamma = torch.tensor([1.5, 0.5, -2.0], dtype=torch.float64, requires_grad=True)
beta = torch.tensor([0.1, -1.0, 3.0], dtype=torch.float64, requires_grad=True)
upstream = torch.randn(N, C).double()  # dL/dy
eps = 1e-5

# %% [markdown]
# ## 계산 그래프
#
# 학습 모드(training mode)의 배치 정규화를 가장 작은 단계로 나누면 다음과 같습니다. 특성마다 따로 계산하므로 아래
# 식은 특성 하나에 대한 것이고, 합 $\sum_j$는 샘플 $n = N$개에 걸친 것입니다.
#
# | 단계 | 식 | 코드 |
# | --- | --- | --- |
# | 1 | $\mu = \frac{1}{n}\sum_j x_j$ | `mu` |
# | 2 | $d_i = x_i - \mu$ | `xmu` |
# | 3 | $s_i = d_i^2$ | `sq` |
# | 4 | $\sigma^2 = \frac{1}{n}\sum_j s_j$ (편향 분산: $n$으로 나눈 분산) | `var` |
# | 5 | $r = (\sigma^2 + \epsilon)^{-1/2}$ | `invstd` |
# | 6 | $\hat{x}_i = d_i \cdot r$ | `xhat` |
# | 7 | $y_i = \gamma \hat{x}_i + \beta$ | `y` |
#
# $x$에서 $y$로 가는 길이 여러 갈래라는 점을 눈여겨보세요. $x_i$는 $d_i$로 곧장 가기도 하고, $\mu$를
# 거쳐 모든 $d_j$로 가기도 합니다. $d_i$는 다시 $\hat{x}_i$로 곧장 가기도 하고, $s_i$와 $\sigma^2$와
# $r$을 거쳐 모든 $\hat{x}_j$로 가기도 합니다. 역전파에서는 갈래마다 온 기울기를 **모두 더합니다**.
#
# 기호 하나를 조심하세요. 표의 $d_i$는 평균을 뺀 값(편차)입니다. 아래에서 `d`로 시작하는 코드 이름
# (`dx`, `dmu`)과 식의 $dy_i$는 기울기입니다.
#
# 각 단계의 중간값에 `retain_grad()`를 걸어 두면 autograd가 구한 중간 기울기도 볼 수 있습니다.

# %%
n = x.shape[0]
mu = x.sum(0) / n  # (N, C) -> (C,)
xmu = x - mu  # (N, C)
sq = xmu**2
var = sq.sum(0) / n  # 편향 분산
invstd = (var + eps) ** -0.5
xhat = xmu * invstd
y = gamma * xhat + beta
loss = (y * upstream).sum()

for t in (mu, xmu, sq, var, invstd, xhat, y):
    t.retain_grad()
loss.backward()

# %% [markdown]
# ## 한 단계씩 거꾸로
#
# 이제 마지막 단계부터 거꾸로 올라가며 기울기를 손으로 구합니다. 이름은 `d` + 변수 이름입니다.
# 한 줄 한 줄이 "이 값이 바뀌면 손실이 얼마나 바뀌는가"를 바로 다음 단계의 기울기에서 구하는
# 연쇄 법칙입니다.
#
# - 7단계 $y = \gamma\hat{x} + \beta$: γ와 β는 모든 샘플에 쓰였으므로 샘플 방향으로 더합니다.
# - 6단계 $\hat{x} = d \cdot r$: $r$은 모든 샘플에 쓰였으므로 역시 더합니다. $d$로는 $r$을 곱한 기울기가
#   갑니다(첫 번째 갈래).
# - 5단계: $\frac{\partial r}{\partial \sigma^2} = -\frac{1}{2}(\sigma^2 + \epsilon)^{-3/2}$
# - 4단계: $\sigma^2$는 모든 $s_j$의 평균이므로 각 $s_j$로 $1/n$씩 나누어 돌려보냅니다.
# - 3단계: $\frac{\partial s}{\partial d} = 2d$. 첫 번째 갈래에서 온 기울기에 **더합니다**.
# - 2단계: $d_i = x_i - \mu$이므로 $\mu$에는 모든 $d_j$의 기울기를 더해 부호를 바꾼 값이 갑니다.
# - 1단계: $x_i$에는 $d_i$에서 곧장 온 기울기와, $\mu$를 거쳐 $1/n$씩 나뉘어 온 기울기가 더해집니다.

# %%
dy = upstream
dbeta = dy.sum(0)
dgamma = (dy * xhat).sum(0)
dxhat = dy * gamma
dinvstd = (dxhat * xmu).sum(0)
dxmu = dxhat * invstd  # 첫 번째 갈래: xhat을 거쳐
dvar = dinvstd * -0.5 * (var + eps) ** -1.5
dsq = torch.ones_like(sq) * dvar / n
dxmu = dxmu + 2 * xmu * dsq  # 두 번째 갈래: sq와 var를 거쳐
dmu = -dxmu.sum(0)
dx = dxmu + dmu / n  # x에서 곧장 + mu를 거쳐

# %% [markdown]
# Karpathy의 makemore 강의 4편(Backprop Ninja)에서 쓰는 방식 그대로, 손으로 구한 값을 autograd가 구한
# `.grad`와 하나씩 비교합니다. "정확히 같은가"는 비트 단위까지 같은지(`torch.equal`), "거의 같은가"는 반올림 오차
# 범위 안에서 같은지(`torch.allclose`)입니다. 계산 순서가 autograd와 조금만 달라도 마지막 비트가 달라질
# 수 있으므로, 판단은 "거의 같은가"로 합니다.

# %%
rows = [compare(name, mine, ref.grad) for name, mine, ref in [
    ("dbeta", dbeta, beta), ("dgamma", dgamma, gamma), ("dxhat", dxhat, xhat),
    ("dinvstd", dinvstd, invstd), ("dvar", dvar, var), ("dsq", dsq, sq),
    ("dxmu", dxmu, xmu), ("dmu", dmu, mu), ("dx", dx, x)]]
display(Markdown(markdown_table(COMPARE_HEADERS, rows)))

# %% [markdown]
# ## 한 줄로 정리하기
#
# 단계별 식을 하나로 합쳐 봅니다. $\partial L / \partial y_i$를 줄여서 $dy_i$로 쓰면 $\hat{x}_i$에 대한
# 기울기는 $\gamma\, dy_i$이고, 첫 번째 갈래로 $d_i$에 가는 기울기는 $\gamma r\, dy_i$입니다. 6단계에서
# $r$로 모인 기울기를 5·4·3단계로 돌려보내면, 분산을 거쳐 $d_i$에 오는 두 번째 갈래는
#
# $$\frac{\partial L}{\partial \sigma^2}\cdot\frac{2 d_i}{n}
# = -\frac{r^3 d_i}{n}\sum_j \gamma\, dy_j\, d_j
# = -\frac{\gamma r}{n}\,\hat{x}_i \sum_j dy_j\, \hat{x}_j$$
#
# 입니다. 두 갈래를 더한 것이 $d_i$의 기울기입니다. 2단계에서 $\mu$에 모이는 기울기는 분산 갈래의 몫이
# $\sum_j d_j = 0$ 때문에 사라져서 $-\gamma r \sum_j dy_j$만 남습니다. 1단계에서 $d_i$의 기울기에 이것을
# $n$으로 나누어 더하면 다음 공식이 됩니다.
#
# $$\frac{\partial L}{\partial x_i}
# = \frac{\gamma r}{n}\left(n\,dy_i - \sum_j dy_j - \hat{x}_i \sum_j dy_j\,\hat{x}_j\right),
# \qquad
# \frac{\partial L}{\partial \gamma} = \sum_j dy_j\,\hat{x}_j,
# \qquad
# \frac{\partial L}{\partial \beta} = \sum_j dy_j$$
#
# 첫 항 $n\,dy_i$는 평균과 분산이 상수였다면 받았을 기울기이고, 뒤의 두 항은 평균과 분산이 $x_i$에
# 달려 있어서 생긴 보정입니다. 코드로는 세 줄입니다.

# %%
def batch_norm_backward(dy, xhat, invstd, gamma):
    """학습 모드 배치 정규화의 닫힌 꼴 역전파. dy, xhat: (N, C); invstd, gamma: (C,)."""
    n = dy.shape[0]
    dgamma = (dy * xhat).sum(0)
    dbeta = dy.sum(0)
    dx = gamma * invstd / n * (n * dy - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


dx_short, dgamma_short, dbeta_short = batch_norm_backward(
    upstream, xhat.detach(), invstd.detach(), gamma.detach())
display(Markdown(markdown_table(COMPARE_HEADERS, [
    compare("한 줄 공식 dx", dx_short, x.grad),
    compare("한 줄 공식 dγ", dgamma_short, gamma.grad),
    compare("한 줄 공식 dβ", dbeta_short, beta.grad)])))

# %% [markdown]
# ## bnref의 역전파
#
# `bnref`는 이 공식을 `torch.autograd.Function`의 `backward`에 손으로 써 두었습니다. 공식은
# `bnref/functional.py`의 `_grad_input` 설명에 적혀 있습니다. 아래 코드는 그 공식이 소스에 그대로 적혀
# 있는지 확인하고, 특성마다 계수를 구하는 두 줄을 소스에서 읽어 보여 줍니다. 소스에서는 이 두 줄 앞에서
# `g = γ·invstd`를 구해 둡니다.

# %%
source = inspect.getsource(bnref.functional._grad_input)
formula = "dx = γ·invstd/n · (n·dy − Σdy − x̂·Σ(dy·x̂))"
print("bnref 소스에 적힌 공식:", formula, "→", formula in source)
for line in source.splitlines():
    if line.strip().startswith(("b = ", "c = ")):
        print("   ", line.split("#")[0].strip())

# %% [markdown]
# 여기서 `g`는 $\gamma r$, `sum_dy`는 $\sum_j dy_j$, `sum_dy_xhat`은 $\sum_j dy_j\hat{x}_j$이고, `centred`는
# 특성마다 하나씩인 상수 `shift`를 뺀 입력, `offset`은 평균에서 그 `shift`를 뺀 값입니다. `shift`는 평균이
# 0에서 멀면 평균이고, 아니면 0입니다. 즉
# $\hat{x} = (\texttt{centred} - \texttt{offset}) \cdot r$입니다. 이것을 위 공식에 넣고 풀어 쓰면
# $dx = a\cdot (dy - m) + b\cdot\texttt{centred} + c$ 꼴이 되고($a$는 `g`와 같습니다), 특성마다 하나씩인
# 계수 $a, b, c$만 float64로 미리 계산해 두면 큰 텐서에서는 곱하고 더하는 일만 남습니다. 수학은 같고,
# 큰 텐서를 덜 읽도록 식의 순서만 바꾼 것입니다. $m$은 대개 0입니다. $dy$가 특성 안에서 거의 상수일 때만
# $m$을 $dy$의 평균으로 두고 먼저 빼는데, 그래야 거의 지워지는 두 항 $a\cdot dy$와 $-a\cdot m$이 반올림
# 찌꺼기를 남기지 않습니다(`_dy_shift`).
#
# 이 역전파가 PyTorch와 같은 값을 내는지 `torch.nn.functional.batch_norm`의 autograd 결과와 비교합니다.
# 서로 다른 구현은 더하는 순서가 달라 마지막 비트까지 같기를 기대할 수 없으므로, 여기서부터는
# "거의 같은가"와 가장 큰 차이만 봅니다.

# %%
def grads(batch_norm, x, gamma, beta):
    """학습 모드 배치 정규화의 (dx, dγ, dβ)를 autograd로 구합니다. 손실은 Σ y·upstream."""
    x, gamma, beta = (t.detach().clone().requires_grad_(True) for t in (x, gamma, beta))
    y = batch_norm(x, None, None, gamma, beta, training=True, eps=eps)
    (y * upstream).sum().backward()
    return x.grad, gamma.grad, beta.grad


ours = grads(bnref.functional.batch_norm, x, gamma, beta)
theirs = grads(torch.nn.functional.batch_norm, x, gamma, beta)
display(Markdown(markdown_table(CLOSE_HEADERS, [
    compare(f"bnref vs torch: {name}", a, b, exact=False)
    for name, a, b in zip(["dx", "dγ", "dβ"], ours, theirs)])))
print("bnref의 dx, 첫 두 샘플:")
print(fmt(ours[0][:2]))

# %% [markdown]
# ## gradcheck: 수치 미분과 비교하기
#
# 마지막 확인은 공식과 전혀 다른 방법으로 합니다. `torch.autograd.gradcheck`는 입력을 아주 조금씩
# 움직여 출력이 얼마나 바뀌는지 재는 수치 미분(numerical differentiation)으로 기울기를 구하고, 그것을
# `backward`가 내놓은 값과 비교합니다. 수치 미분은 반올림 오차에 민감하므로 float64 입력이 필요합니다.
# 2차원 입력과, 합성곱 층 뒤처럼 4차원인 입력 두 가지로 확인합니다.

# %%
def bn_train(x, weight, bias):
    return bnref.functional.batch_norm(x, None, None, weight, bias, training=True)


torch.manual_seed(1)
for shape in [(6, 3), (4, 2, 3, 3)]:
    C = shape[1]
    inputs = (torch.randn(shape, dtype=torch.float64, requires_grad=True),
              torch.randn(C, dtype=torch.float64, requires_grad=True),
              torch.randn(C, dtype=torch.float64, requires_grad=True))
    ok = torch.autograd.gradcheck(bn_train, inputs, raise_exception=False)
    print(f"gradcheck, 입력 모양 {shape}:", ok)

# %% [markdown]
# ## 특성마다 dx의 합은 0이다
#
# 한 줄 공식을 특성마다 샘플 방향으로 더해 보면 재미있는 일이 생깁니다. $\sum_i \hat{x}_i = 0$이므로
#
# $$\sum_i \frac{\partial L}{\partial x_i} = \frac{\gamma r}{n}\left(n\sum_i dy_i - n\sum_j dy_j
# - 0\right) = 0$$
#
# 입니다. 위에서 `bnref`로 구한 dx를 특성마다 더해 봅니다. $\hat{x}$을 곱해 더한 값도 함께 봅니다.

# %%
dx_bnref = ours[0]
print("특성마다 Σ dx:     ", fmt(dx_bnref.sum(0)))
print("특성마다 Σ dx · x̂:", fmt((dx_bnref * xhat.detach()).sum(0)))

# %% [markdown]
# 둘 다 0입니다. 두 번째 합은 ε 때문에 정확히 0은 아니지만, 넷째 자리에 나타나지 않을 만큼 작습니다.
# 뜻을 생각해 봅시다. 기울기와 어떤 방향의 내적은 "입력을 그 방향으로 조금 움직였을 때 손실이
# 얼마나 바뀌는가"입니다. $\sum_i dx_i = 0$은 한 특성의 입력을 **모두 같은 양만큼 옮겨도** 손실이
# 바뀌지 않는다는 뜻입니다. 당연합니다. 모든 값에 상수 $c$를 더하면 평균도 $c$만큼 옮겨 가서,
# 평균을 빼고 나면 아무것도 달라지지 않으니까요. 마찬가지로 $\sum_i dx_i \hat{x}_i = 0$은 평균을
# 중심으로 **모두 같은 비율로 늘리거나 줄여도** (ε의 영향을 빼면) 출력이 그대로라는 뜻입니다.
# 직접 확인해 봅니다.

# %%
with torch.no_grad():
    y0 = bnref.functional.batch_norm(x, None, None, gamma, beta, training=True)
    y_shift = bnref.functional.batch_norm(x + 7.0, None, None, gamma, beta, training=True)
    y_scale = bnref.functional.batch_norm(3.0 * x, None, None, gamma, beta, training=True)
print("모든 입력에 7을 더했을 때 출력의 가장 큰 변화: ", fmt((y_shift - y0).abs().max()))
print("모든 입력을 3배로 했을 때 출력의 가장 큰 변화:", fmt((y_scale - y0).abs().max()))

# %% [markdown]
# 그래서 배치 정규화 앞의 층은 기울기로는 한 특성의 평균이나 크기를 바꾸라는 신호를 받지
# 못합니다. 그런 변화는 배치 정규화가 어차피 지워 버리기 때문입니다. 크기는 γ가, 평균은 β가 맡습니다.
# 이 성질에서 나오는 실용적인 결론 하나는 [자주 하는 실수](17_common_mistakes.py)에서 다룹니다.
# 배치 정규화 바로 앞 층의 편향(bias)은 학습 모드에서 기울기가 언제나 0이라 쓸모가 없습니다.

# %% [markdown]
# ## 평가 모드의 역전파
#
# 평가 모드(evaluation mode)에서는 평균과 분산이 저장된 이동 통계(running statistics)라서 $x$에 달려 있지 않습니다. 그래서 보정 항이 모두
# 사라지고 $\partial L/\partial x_i = \gamma\, dy_i / \sqrt{\text{running_var} + \epsilon}$만
# 남습니다. 이번에는 특성마다 더해도 0이 아닙니다.

# %%
running_mean = torch.tensor([1.0, 0.0, -1.0], dtype=torch.float64)
running_var = torch.tensor([4.0, 1.0, 0.25], dtype=torch.float64)
xe = x.detach().clone().requires_grad_(True)
ye = bnref.functional.batch_norm(xe, running_mean, running_var, gamma.detach(), beta.detach(),
                                 training=False)
(ye * upstream).sum().backward()
dx_eval = gamma.detach() * upstream / torch.sqrt(running_var + eps)
display(Markdown(markdown_table(CLOSE_HEADERS, [compare("평가 모드 dx", xe.grad, dx_eval, exact=False)])))
print("평가 모드, 특성마다 Σ dx:", fmt(xe.grad.sum(0)))

# %% [markdown]
# ## 연습 문제
#
# **1.** γ = 1, β = 0이고 위에서 흘러 들어온 기울기가 모든 샘플에서 같다면($dy_i = 1$) dx는 얼마일까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# $n\,dy_i - \sum_j dy_j = n - n = 0$이고, $\sum_j dy_j \hat{x}_j = \sum_j \hat{x}_j = 0$이므로 dx는 모두
# 0입니다. 모든 출력을 같은 양만큼 키우라는 신호는 β만 바꿀 수 있고($d\beta = n$), 입력으로는 전혀
# 전달되지 않습니다.
#
# </details>
#
# **2.** 한 단계씩 구한 코드에서 `dxmu = dxmu + 2 * xmu * dsq`를 `dxmu = 2 * xmu * dsq`로 바꾸면
# 비교 표의 어느 줄부터 달라질까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# `xhat`을 거쳐 온 첫 번째 갈래를 버린 것이므로 `dxmu`부터 틀리고, 그 값을 쓰는 `dmu`와 `dx`도
# 틀립니다. 그보다 앞에서 구한 `dbeta`부터 `dsq`까지는 그대로입니다. 한 값이 여러 갈래로 쓰이면
# 기울기를 더해야 한다는 것은 역전파에서 흔히 틀리는 부분입니다.
#
# </details>
#
# **3.** 정규화에 불편 분산($n-1$로 나눈 분산)을 쓰는 구현이라면 한 줄 공식의 어디가 바뀔까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 4단계가 $\sigma^2 = \frac{1}{n-1}\sum_j s_j$가 되므로 분산 갈래에서 $1/n$ 대신 $1/(n-1)$이 곱해집니다.
# 그러면 마지막 항이 $\frac{n}{n-1}\hat{x}_i \sum_j dy_j \hat{x}_j$가 됩니다(여기서 $\hat{x}$은 그
# 구현이 정규화한 값). $\sum_i dx_i = 0$은 그대로 성립합니다. 평균을 빼는 한, 모든 입력을 같은 양만큼
# 옮겨도 출력이 바뀌지 않기 때문입니다.
#
# </details>

# %% [markdown]
# ## 직접 구현해 보기
#
# 이번 강의의 공식으로 역전파 함수를 직접 써 보세요. 인자는 `torch.nn.functional.batch_norm`의 순서를
# 따르되, 맨 앞에 위에서 흘러 들어온 기울기 `dy`를 두고 기울기에 필요 없는 β와 momentum은 뺐습니다.
#
# - `dy`, `x`: 모양이 $(N, C)$
# - `running_mean`, `running_var`, `gamma`: 모양이 $(C,)$
# - `training`: `True`면 학습 모드(배치 통계), `False`면 평가 모드(이동 통계)
# - 돌려줄 값: `(dx, dgamma, dbeta)`
#
# `check.batch_norm_backward`는 학습 모드 입력 네 가지와 평가 모드 입력 두 가지로 시험합니다. 학습 모드
# 입력에는 샘플이 2개뿐인 입력, 평균이 0에서 먼 입력, 메모리에서 연속이 아닌(non-contiguous) 텐서가 들어
# 있습니다. 평균이나 분산을 거쳐 오는 항이 빠졌는지, 평가 모드에 학습 모드의 식을 썼는지 같은 실수를
# 알려 줍니다.

# %%
import torch

from bnref.course import check


def batch_norm_backward(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    """y = γ·x̂ + β의 기울기. dy, x: (N, C), 나머지: (C,) -> (dx, dgamma, dbeta)"""
    ...  # 여기를 채우세요


# %%
result = check.batch_norm_backward(batch_norm_backward)

# %% fold="답 보기"
def batch_norm_backward(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    """y = γ·x̂ + β의 기울기. dy, x: (N, C), 나머지: (C,) -> (dx, dgamma, dbeta)"""
    if training:
        mean, var = x.mean(dim=0), x.var(dim=0, unbiased=False)
    else:
        mean, var = running_mean, running_var
    invstd = 1 / torch.sqrt(var + eps)
    x_hat = (x - mean) * invstd
    dgamma = (dy * x_hat).sum(dim=0)
    dbeta = dy.sum(dim=0)
    if training:  # 평균과 분산도 x에 달려 있음: 한 줄 공식
        n = x.shape[0]
        dx = gamma * invstd / n * (n * dy - dbeta - x_hat * dgamma)
    else:  # 평균과 분산이 상수
        dx = gamma * invstd * dy
    return dx, dgamma, dbeta


result = check.batch_norm_backward(batch_norm_backward)
