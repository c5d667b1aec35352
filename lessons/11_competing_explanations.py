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
# # 여러 설명을 실험으로
#
# 배치 정규화(batch normalization)가 학습을 돕는다는 것은 수많은 실험이 확인했지만, **왜** 돕는지는 아직
# 정리되지 않았습니다. 지금 나와 있는 설명은 여럿이고, 서로 겨루기도 하고 보완하기도 합니다. 이 강좌는 그
# 가운데 하나를 정답으로 고르지 않고, 각 설명이 무엇을 예측하는지 적은 뒤 작은 모델로 잽니다.
#
# - **내부 공변량 변화(internal covariate shift)를 줄인다**(Ioffe & Szegedy, 2015)와 **손실 지형(loss
#   landscape)을 매끄럽게 한다**(Santurkar 등, 2018)는 [BN은 왜 효과가 있을까](10_why_it_works.py)에서 쟀습니다.
# - **배치 통계의 잡음이 규제(regularization) 효과를 낸다**는 [규제 효과와 배치 크기](09_regularization.py)에서 쟀습니다.
# - 이 강의는 남은 두 가지를 잽니다. 하나는 **스케일 불변성(scale invariance)과 유효 학습률(effective
#   learning rate)**(van Laarhoven, 2017; Arora, Li & Lyu, 2019)이고, 다른 하나는 설명이라기보다 주의할
#   점인 **초기화 때의 기울기 폭주(gradient explosion)**(Yang 등, 2019)입니다.
#
# 마지막에 모든 설명을 한 표에 모아, 각 설명의 예측과 이 강좌가 잰 것, 그리고 남은 질문을 정리합니다.

# %%
import math

import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

from bnref.course.experiments import load_digits, mlp, train
from bnref.course.printing import fmt, markdown_table
from bnref.course.probes import dead_relu_fraction, effective_lr, weight_grad_norms, weights_feeding_bn
from bnref.course.viz import use_korean_font

use_korean_font()
# 모델이 작아서 스레드를 여럿 쓰면 나눠 주고 기다리는 비용이 계산보다 큽니다. 스레드 하나로 돌립니다.
torch.set_num_threads(1)

data = load_digits()
BATCH = 128
SEEDS = [0, 1, 2]  # 모델의 처음 가중치와 미니배치 순서를 정하는 시드


def spread(values, digits=3):
    """시드별 값들을 '중앙값 (최솟값 ~ 최댓값)'으로."""
    t = torch.tensor(values, dtype=torch.float64)
    return f"{fmt(t.median(), digits)} ({fmt(t.min(), digits)} ~ {fmt(t.max(), digits)})"


def magnitude(v):
    """아주 크거나 작은 값은 1.1×10⁴처럼, 나머지는 유효숫자 두 자리로."""
    if 0.01 <= abs(v) < 100:
        return f"{v:.2g}"
    exponent = math.floor(math.log10(abs(v)))
    mantissa = v / 10 ** exponent
    return f"{mantissa:.1f}×10" + str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


def text_table(headers, rows):
    """글로 된 칸이 많은 표: 모든 열을 왼쪽 정렬합니다."""
    lines = markdown_table(headers, rows).splitlines()
    lines[1] = "| --- " * len(headers) + "|"
    return Markdown("\n".join(lines))


# %% [markdown]
# ## 스케일 불변성
#
# [실제 데이터로 학습하기](07_digits_training.py)에서 본 성질부터 숫자로 확인합니다. 배치 정규화 바로 앞
# `Linear`의 가중치 $W$를 $a > 0$배 하면, 그 층의 출력 $aWx$는 평균도 표준편차도 $a$배가 되어 정규화에서
# 지워집니다.
#
# $$\operatorname{BN}(aWx) = \operatorname{BN}(Wx)$$
#
# 손실(loss)을 이 가중치의 함수 $f(W)$로 보면 $f(aW) = f(W)$입니다. 양변을 $W$로 미분하면
# 기울기(gradient)는 $\nabla f(aW) = \nabla f(W)/a$, 곧 $1/a$배가 됩니다. BN은 특성마다 따로 정규화하므로,
# 뉴런 하나로 가는 가중치 행 $w_j$ 하나만 $a$배 해도 손실은 그대로입니다. 그 손실을 $a$로 미분해 $a = 1$을
# 넣으면 행마다 $\langle \nabla_{w_j} f, w_j \rangle = 0$입니다. 기울기가 가중치에 언제나 **수직**이라는
# 뜻입니다.
#
# 다층 퍼셉트론(multilayer perceptron, MLP) `mlp("bn")`의 첫 `Linear` 가중치를 $a$배 한 복사본을 만들어,
# 미니배치(mini-batch) 하나에서 학습 모드(training mode)로 출력과 기울기를 비교합니다. $\epsilon$ 때문에
# $a$가 아주 작으면 성질이 깨지는 것도 봅니다. 이때 분산 $a^2 \operatorname{Var}[Wx]$가 $\epsilon = 10^{-5}$에
# 견줄 만큼 작아지기 때문입니다.

# %%
x, y = data.x_train[:BATCH], data.y_train[:BATCH]
base = mlp("bn")


def output_and_grad(model):
    """학습 모드에서 미니배치 하나의 출력, 그리고 첫 Linear 가중치의 기울기. 이동 통계는 되돌려 놓습니다."""
    buffers = {k: v.clone() for k, v in model.state_dict().items()}
    out = model.train()(x)
    loss = torch.nn.functional.cross_entropy(out, y)
    (grad,) = torch.autograd.grad(loss, [model[0].weight])
    model.load_state_dict(buffers)
    return out.detach(), grad


out_1, grad_1 = output_and_grad(base)
rows = []
for a in [0.01, 0.1, 10.0, 100.0]:
    scaled = mlp("bn")
    with torch.no_grad():
        scaled[0].weight.mul_(a)
    out_a, grad_a = output_and_grad(scaled)
    w = scaled[0].weight.detach()
    cosine = ((grad_a * w).sum(1) / (grad_a.norm(dim=1) * w.norm(dim=1))).abs().max()
    rows.append([f"{a:g}", fmt((out_a - out_1).abs().max(), 4), fmt(a * grad_a.norm() / grad_1.norm(), 4),
                 fmt(cosine, 4)])
display(Markdown(markdown_table(
    ["배율 a", "출력(a)과 출력(1)의 최대 차이", "a · ‖∇W(a)‖ / ‖∇W(1)‖", "w_j와 ∇w_j의 코사인 (절댓값 최대)"], rows)))

# %% [markdown]
# 셋째 열이 1이면 기울기가 정확히 $1/a$배라는 뜻이고, 마지막 열이 0이면 기울기가 가중치 행에 수직이라는
# 뜻입니다. $a$가 10, 100인 줄은 두 성질이 표에 보이는 자릿수까지 맞습니다. $a$가 작아질수록 세 열 모두
# 기대한 값에서 벗어나고, $a = 0.01$에서는 출력이 0.1171까지 달라지고 코사인도 0.1032가 됩니다.
# $\epsilon$ 때문에 성질이 깨진 것입니다.
#
# ## 유효 학습률
#
# 기울기가 가중치에 수직이면, 확률적 경사 하강법(stochastic gradient descent, SGD)의 한 걸음
# $w_{t+1} = w_t - \eta g_t$는 피타고라스 정리에 따라 가중치를 **늘이기만** 합니다.
#
# $$\lVert w_{t+1} \rVert^2 = \lVert w_t \rVert^2 + \eta^2 \lVert g_t \rVert^2$$
#
# 그런데 출력은 $w$의 방향에만 달려 있고, 기울기의 크기는 $1/\lVert w \rVert$에 비례합니다. 그래서 한
# 걸음에 방향이 바뀌는 정도는 $\eta / \lVert w \rVert^2$에 비례합니다. 이 값을 유효 학습률이라고 부릅니다
# (`bnref.course.probes.effective_lr`은 뉴런들의 $\lVert w_j \rVert^2$ 평균으로 나눕니다). 두 식을 합치면
# 이런 예측이 나옵니다(van Laarhoven, 2017; Arora, Li & Lyu, 2019).
#
# 1. 학습률(learning rate) $\eta$가 크면 $\lVert w \rVert$가 빨리 커지고, 그만큼 유효 학습률이 스스로
#    줄어듭니다. 그래서 배치 정규화 앞 가중치는 큰 학습률을 어느 정도 견딜 수 있습니다. Arora 등은 이것을 "자동으로 학습률을
#    조절한다(auto rate-tuning)"고 불렀습니다.
# 2. 가중치 감쇠(weight decay)는 $\lVert w \rVert$를 줄이므로, 이 가중치에는 규제보다는 유효 학습률을
#    **키우는** 쪽으로 작용합니다. 출력은 $w$의 크기와 무관하기 때문입니다.
#
# 첫째 예측부터 잽니다. `mlp("bn")`을 학습률 0.1, 1, 10으로 시드마다 10에폭 학습하면서, 스텝마다 첫
# 배치 정규화 앞 가중치의 $\lVert W \rVert^2$(모든 행의 합)과 유효 학습률을 기록하고, 위의 피타고라스
# 식이 맞는지 $(\lVert W_{t+1} \rVert^2 - \lVert W_t \rVert^2) / (\eta^2 \lVert G_t \rVert^2)$로 확인합니다.
# SGD 모멘텀과 가중치 감쇠는 쓰지 않습니다.

# %%
def tracked_run(lr, seed, epochs, weight_decay=0.0):
    """mlp("bn")을 학습하며 스텝마다 첫 BN 앞 가중치의 (‖W‖², 유효 학습률, 피타고라스 식의 비)를 기록."""
    model = mlp("bn", seed=seed)
    w = weights_feeding_bn(model)[0]
    norms, eff, pythagoras = [w.detach().pow(2).sum().item()], [effective_lr(w, lr)], []

    def on_step(step, model):
        norms.append(w.detach().pow(2).sum().item())  # 갱신한 뒤의 ‖W‖²
        eff.append(effective_lr(w, lr))
        pythagoras.append((norms[-1] - norms[-2]) / (lr ** 2 * w.grad.pow(2).sum().item()))

    h = train(model, data, epochs=epochs, lr=lr, batch_size=BATCH, seed=seed, on_step=on_step,
              weight_decay=weight_decay)
    return model, h, torch.tensor(norms, dtype=torch.float64), torch.tensor(eff, dtype=torch.float64), \
        torch.tensor(pythagoras, dtype=torch.float64)


LRS, LR_EPOCHS = [0.1, 1.0, 10.0], 10
lr_runs = {(lr, seed): tracked_run(lr, seed, LR_EPOCHS) for lr in LRS for seed in SEEDS}

fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.4))
for i, lr in enumerate(LRS):
    for seed in SEEDS:
        _, _, norms, eff, _ = lr_runs[lr, seed]
        label = f"학습률 {lr:g}" if seed == SEEDS[0] else None
        axes[0].plot(norms, color=f"C{i}", linewidth=1, label=label)
        axes[1].plot(eff, color=f"C{i}", linewidth=1, label=label)
axes[0].set(title="첫 BN 앞 가중치의 ‖W‖²", xlabel="스텝", ylabel="‖W‖²", yscale="log")
axes[1].set(title="유효 학습률 η/‖w‖²", xlabel="스텝", ylabel="유효 학습률", yscale="log")
for ax in axes:
    ax.legend(fontsize=7)
fig.suptitle(f"가중치 감쇠 없이 학습할 때 (선 하나가 시드 하나, 시드 {len(SEEDS)}개)")
fig.tight_layout()
plt.show()

rows = []
for lr in LRS:
    runs = [lr_runs[lr, seed] for seed in SEEDS]
    rows.append([f"{lr:g}", fmt(runs[0][3][0], 4), spread([r[3][-1].item() for r in runs], 4),
                 spread([(r[2][-1] / r[2][0]).item() for r in runs], 2),
                 spread([r[4].median().item() for r in runs], 4),
                 f"{fmt(min(r[4].min() for r in runs), 4)} ~ {fmt(max(r[4].max() for r in runs), 4)}",
                 spread([r[1].test_acc[-1] for r in runs])])
display(Markdown(markdown_table(
    ["학습률", "처음 유효 학습률", "끝 유효 학습률", "끝 ‖W‖² / 처음 ‖W‖²", "피타고라스 식의 비 (중앙값)",
     "(전체 범위)", f"{LR_EPOCHS}에폭 정확도"], rows)))

end_eff = {lr: torch.tensor([lr_runs[lr, seed][3][-1].item() for seed in SEEDS]).median().item() for lr in LRS}
lr_span = max(LRS) / min(LRS)
eff_span = max(end_eff.values()) / min(end_eff.values())
print("끝 유효 학습률(시드 중앙값):", ", ".join(f"학습률 {lr:g} → {fmt(v, 4)}" for lr, v in end_eff.items()))
print(f"학습률은 {lr_span:g}배 차이 났고, 끝 유효 학습률은 가장 큰 것과 가장 작은 것이 {fmt(eff_span, 1)}배 "
      f"차이 났습니다. 끝 유효 학습률이 가장 작은 쪽: 학습률 {min(end_eff, key=end_eff.get):g}")
largest = max(LRS)
worst = [lr_runs[largest, seed] for seed in SEEDS]
accs = [h.test_acc[-1] for _, h, *_ in worst]
dead = [max(dead_relu_fraction(model, data.x_train)) for model, *_ in worst]
print(f"학습률 {largest:g}: 유효 학습률은 {fmt(worst[0][3][0], 1)}에서 시작해 줄었고, {LR_EPOCHS}에폭 정확도는 "
      f"{spread(accs)}, 죽은 ReLU가 가장 많은 층의 비율은 {spread(dead, 2)}였습니다.")
if max(accs) < 0.9:
    print(f"→ 유효 학습률이 스스로 줄었는데도 학습률 {largest:g}의 학습은 모든 시드에서 정확도 0.9에 닿지 못했습니다.")
else:
    print(f"→ 학습률 {largest:g}에서도 정확도 0.9에 닿은 시드가 있었습니다.")

# %% [markdown]
# 표의 "피타고라스 식의 비"가 1이면 $\lVert W \rVert^2$가 정확히 $\eta^2 \lVert G \rVert^2$만큼씩 늘었다는
# 뜻입니다. 1에서 벗어난 정도는 $\epsilon$과 부동소수점 오차 때문입니다. 위에 출력한 첫 두 줄이
# 첫째 예측의 측정입니다. 학습률의 차이가 유효 학습률에서는 얼마로 줄었는지를 보여 줍니다. 학습률이
# 아주 크면 $\lVert W \rVert$가 너무 많이 커져서, 끝 유효 학습률이 작은 학습률로 학습한 쪽보다 오히려
# 작아질 수도 있습니다. 다만 학습률 10의 끝 유효 학습률은 시드에 따라 0.0639에서 0.4906까지 흩어져서,
# 학습률 0.1 쪽보다 큰 시드도 있습니다. 중앙값의 순서만 보고 단정할 수는 없습니다.
#
# 마지막 두 줄은 이 예측만으로는 설명되지 않는 것을 잽니다. 스케일 불변인 것은 배치 정규화 바로 앞
# 가중치뿐이고, 마지막 `Linear`와 배치 정규화의 γ, β는 학습률을 그대로 받습니다. 또 유효 학습률이 줄어드는
# 데에는 몇 스텝이 걸리므로, 그 사이의 큰 걸음이 ReLU를 죽일 수 있습니다. 모든 샘플에서 입력이 0 이하라
# 출력도 기울기도 늘 0인 뉴런을 죽은 ReLU(dead ReLU)라고 하고, [실제 데이터로
# 학습하기](07_digits_training.py)의 학습률 실험에서도 쟀습니다. 자동 조절이 큰 학습률을 견디는 까닭의
# 전부라면 학습률이 아무리 커도 학습이 되어야 합니다.
#
# 이제 둘째 예측입니다. 학습률 0.1에서 가중치 감쇠 $\lambda$를 0과 0.1로 두고 10에폭(100스텝) 학습합니다.
# 보통 쓰는 $\lambda$(예: $5 \times 10^{-4}$)보다 훨씬 크게 잡은 것은, 100스텝 동안 감쇠가 가중치에 주는
# 몫 $\eta \lambda \times \text{스텝 수} = 1$이 긴 학습에서 작은 $\lambda$가 주는 몫과 비슷해지도록 하기
# 위해서입니다. `train(..., weight_decay=λ)`는 `torch.optim.SGD`의 가중치 감쇠를 모든 파라미터에 겁니다.

# %%
WD_LR, WD_EPOCHS, DECAYS = 0.1, 10, [0.0, 0.1]
# λ = 0인 학습은 위에서 한 학습률 0.1의 학습과 똑같으므로(같은 시드, 같은 에폭) 그 결과를 그대로 씁니다.
wd_runs = {(decay, seed): lr_runs[WD_LR, seed] if decay == 0 and WD_EPOCHS == LR_EPOCHS
           else tracked_run(WD_LR, seed, WD_EPOCHS, weight_decay=decay)
           for decay in DECAYS for seed in SEEDS}

fig, ax = plt.subplots(figsize=(6.4, 3.4))
for i, decay in enumerate(DECAYS):
    for seed in SEEDS:
        ax.plot(wd_runs[decay, seed][3], color=f"C{i}", linewidth=1,
                label=f"가중치 감쇠 λ = {decay:g}" if seed == SEEDS[0] else None)
ax.set(title=f"학습률 {WD_LR:g}에서 유효 학습률의 변화 (선 하나가 시드 하나)", xlabel="스텝",
       ylabel="유효 학습률 η/‖w‖²", yscale="log")
ax.legend(fontsize=7)
fig.tight_layout()
plt.show()

rows = [[f"{decay:g}", spread([wd_runs[decay, seed][3][-1].item() for seed in SEEDS], 4),
         spread([wd_runs[decay, seed][1].test_acc[-1] for seed in SEEDS])] for decay in DECAYS]
display(Markdown(markdown_table(["가중치 감쇠 λ", "끝 유효 학습률", f"{WD_EPOCHS}에폭 정확도"], rows)))

grow = [(wd_runs[DECAYS[1], seed][3][-1] / wd_runs[DECAYS[0], seed][3][-1]).item() for seed in SEEDS]
better = sum(wd_runs[DECAYS[1], seed][1].test_acc[-1] > wd_runs[DECAYS[0], seed][1].test_acc[-1] for seed in SEEDS)
print(f"λ = {DECAYS[1]:g}일 때 끝 유효 학습률은 λ = 0일 때의 {spread(grow, 2)}배였습니다.")
print(f"정확도는 시드 {len(SEEDS)}개 가운데 {better}개에서 λ = {DECAYS[1]:g} 쪽이 높았습니다.")

# %% [markdown]
# 위 두 줄이 둘째 예측의 측정입니다. 첫 줄은 감쇠가 유효 학습률을 키운다는 예측을 직접 잽니다. 둘째 줄의
# 정확도(accuracy)는 조심해서 읽어야 합니다. 표에서 두 조건의 정확도는 중앙값이 같고(0.971) 시드 사이의
# 범위도 겹치므로, 이 측정으로는 감쇠가 정확도를 바꿨다고 말할 수 없습니다. 차이가 있더라도, 감쇠는 스케일
# 불변이 아닌 파라미터(마지막 층, γ, β)에도 걸렸으므로 그 차이가 모두 유효 학습률 때문이라고 할 수는
# 없습니다. 그것을 가르려면 배치 정규화 앞 가중치에만 감쇠를 거는 실험이 필요합니다(연습 문제 2).
#
# [BN은 왜 효과가 있을까](10_why_it_works.py)의 매끄러움 측정과도 이어지는 점이 있습니다. 스케일 불변인
# 가중치에 대해서는 기울기가 $1/\lVert w \rVert$배, 휘는 정도가 $1/\lVert w \rVert^2$배이므로, 파라미터
# 공간에서 잰 기울기 크기와 매끄러움은 가중치가 커지는 것만으로도 작아집니다.

# %% [markdown]
# ## 깊은 망의 초기 기울기
#
# [왜 정규화하는가](01_why_normalize.py)는 배치 정규화가 층 입력의 크기를 앞쪽 가중치의 크기에서
# 떼어 놓는다고 했습니다. 순전파(forward)에서는 그렇습니다. 그렇다면 역전파(backward)의 기울기도 깊이에
# 상관없이 고르게 흐를까요? Yang 등(2019)은 평균장 이론(mean field theory)으로 스킵 연결(skip connection)이
# 없는 깊은 배치 정규화 망을 분석해, 초기화 때 기울기가 깊이에 따라 지수적으로 **폭주**한다는 것을
# 보였습니다. 원인은 배치 정규화 자체이고 초기 가중치의 분산이나 활성화 함수를 바꿔서는 없앨 수 없으며,
# 미니배치가 작을수록 더 심하다고 했습니다. 이론은 폭이 아주 넓은 망에 대한 것입니다.
#
# 이 강좌의 폭 64인 작은 다층 퍼셉트론으로 잽니다. 은닉층을 10, 20, 50개 쌓은 세 가지 망을 초기화한
# 그대로 두고, 샘플 128개짜리 미니배치 하나에서 층마다 가중치 기울기의 크기 $\lVert \partial L / \partial W_l \rVert$를
# 구합니다(`bnref.course.probes.weight_grad_norms`). 비교할 망은 셋입니다.
#
# - **BN 없음 (기본 초기화)**: PyTorch의 기본 초기화는 가중치의 분산이 $1/(3 \cdot \text{입력 수})$라서,
#   ReLU를 지날 때마다 신호가 줄어듭니다.
# - **BN 없음 (He 초기화)**: 가중치를 $\sqrt{6}$배 하면 분산이 $2/\text{입력 수}$가 되어 He 등(2015)의
#   초기화와 같아집니다. ReLU 망에서 신호의 크기를 층마다 유지하도록 고른 값입니다.
# - **BN**: `Linear → BN → ReLU`를 쌓은 망(기본 초기화; 배치 정규화 앞 가중치의 크기는 출력에 영향이
#   없습니다).
#
# "첫 층 / 마지막 은닉층"은 입력 쪽 첫 `Linear`의 기울기 크기를 마지막 은닉층 `Linear`의 것으로 나눈
# 값이고, "층마다"는 그 비의 $1/(\text{깊이} - 1)$ 제곱, 곧 한 층 내려갈 때마다 곱해지는 평균 배율입니다.
# 1보다 크면 입력 쪽으로 갈수록 커지고(폭주), 작으면 작아집니다(소실, vanishing).

# %%
DEPTHS, INIT_SEEDS = [10, 20, 50], [0, 1, 2, 3, 4]
NETS = {"BN 없음 (기본 초기화)": (None, 1.0), "BN 없음 (He 초기화)": (None, math.sqrt(6)), "BN": ("bn", 1.0)}


def hidden_grad_norms(name, depth, seed, x, y):
    """초기화한 그대로의 망에서 은닉층 Linear마다 ‖∂L/∂W‖ (입력 쪽부터). 마지막 출력층은 뺍니다."""
    norm, scale = NETS[name]
    return weight_grad_norms(mlp(norm, depth=depth, init_scale=scale, seed=seed), x, y)[:-1]


grads = {(name, depth, seed): hidden_grad_norms(name, depth, seed, x, y)
         for name in NETS for depth in DEPTHS for seed in INIT_SEEDS}


def first_over_last(g):
    return g[0] / g[-1]


rows = []
for depth in DEPTHS:
    for name in NETS:
        ratios = [first_over_last(grads[name, depth, seed]) for seed in INIT_SEEDS]
        per_layer = [r ** (1 / (depth - 1)) for r in ratios]
        rows.append([f"{depth}", name, magnitude(torch.tensor(ratios).median().item()),
                     f"{magnitude(min(ratios))} ~ {magnitude(max(ratios))}", spread(per_layer)])
display(Markdown(markdown_table(
    ["깊이", "망", "첫 층 / 마지막 은닉층 (중앙값)", f"(시드 {len(INIT_SEEDS)}개의 범위)", "층마다"], rows)))

# %% [markdown]
# 배치 크기(batch size)도 바꿔 봅니다. 깊이 50인 배치 정규화 망에서, 학습 데이터(training set)에서 뽑은 미니배치의
# 크기만 바꾸며 층마다 곱해지는 배율을 잽니다.

# %%
BATCH_SIZES = [8, 32, 128, 512]
rate_by_batch = {}
for size in BATCH_SIZES:
    rates = []
    for seed in SEEDS:
        idx = torch.randperm(len(data.y_train), generator=torch.Generator().manual_seed(seed))[:size]
        g = hidden_grad_norms("BN", 50, seed, data.x_train[idx], data.y_train[idx])
        rates.append(first_over_last(g) ** (1 / 49))
    rate_by_batch[size] = rates

fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.4))
for i, name in enumerate(NETS):
    for seed in INIT_SEEDS:
        axes[0].plot(range(1, 51), grads[name, 50, seed], color=f"C{i}", linewidth=1,
                     label=name if seed == INIT_SEEDS[0] else None)
axes[0].set(title="깊이 50, 초기화 때 층마다의 기울기 크기", xlabel="층 (1 = 입력 쪽)", ylabel="‖∂L/∂W‖",
            yscale="log")
axes[0].legend(fontsize=7)
axes[1].plot(BATCH_SIZES, [torch.tensor(r).median().item() for r in rate_by_batch.values()], marker="o",
             label="BN, 깊이 50 (시드 중앙값)")
axes[1].axhline(1.0, color="gray", linewidth=0.8, label="폭주도 소실도 없음")
axes[1].set(title="배치 크기와 층마다 곱해지는 배율", xlabel="배치 크기", ylabel="층마다 배율", xscale="log")
axes[1].legend(fontsize=7)
fig.suptitle("스킵 연결이 없는 망의 초기 기울기")
fig.tight_layout()
plt.show()

print("배치 크기별 층마다 배율 (BN, 깊이 50):",
      ", ".join(f"{size}: {spread(r)}" for size, r in rate_by_batch.items()))
medians = [torch.tensor(r).median().item() for r in rate_by_batch.values()]
print("배치가 작을수록 배율이", "커졌습니다." if all(a > b for a, b in zip(medians, medians[1:]))
      else "커지지만은 않았습니다.")
bn50 = torch.tensor([first_over_last(grads["BN", 50, seed]) for seed in INIT_SEEDS]).median().item()
he50 = torch.tensor([first_over_last(grads["BN 없음 (He 초기화)", 50, seed]) for seed in INIT_SEEDS]).median().item()
print(f"깊이 50에서 첫 층의 기울기는 마지막 은닉층의 {magnitude(bn50)}배(BN), {magnitude(he50)}배(BN 없음, He 초기화)였습니다.")
bn_rates = [first_over_last(grads["BN", depth, seed]) ** (1 / (depth - 1)) for depth in DEPTHS for seed in INIT_SEEDS]
if min(bn_rates) > 1:
    print("→ 모든 깊이와 시드에서 BN 망의 초기 기울기는 입력 쪽으로 갈수록 커졌습니다(폭주). 배치 정규화가 "
          "기울기 폭주를 막는다는 말은 초기화 때의 이 망들에는 맞지 않았습니다.")
else:
    print("→ BN 망의 초기 기울기가 입력 쪽으로 갈수록 커지지 않은 경우가 있었습니다.")

# %% [markdown]
# 이 측정이 보여 주는 것과 보여 주지 않는 것을 나눠 둡니다.
#
# - **보여 주는 것.** 위 표와 출력한 줄들은 이 작은 망에서 배치 정규화 망의 초기 기울기가 입력 쪽으로 갈수록
#   층마다 얼마씩 커지는지, 그 배율이 배치 크기에 따라 어떻게 바뀌는지를 보여 줍니다. 마지막 줄이 그
#   결론입니다. 배치 정규화가 없는 망은 초기화에 따라 기울기가 사라지기도 하고(기본 초기화) 고르게 흐르기도 합니다(He
#   초기화). 표의 "BN 없음" 두 줄이 그 크기입니다.
# - **보여 주지 않는 것.** 학습이 실제로 망가지는지는 재지 않았습니다. 초기화 때 한 번 잰 것이고, 학습이
#   시작되면 기울기가 큰 층의 가중치가 먼저 커져 유효 학습률이 줄어드는 등(위의 피타고라스 식) 사정이
#   바뀝니다. Yang 등도 최적화를 한 스텝만 해도 층 사이 기울기 크기의 차이가 크게 줄어드는 것을
#   관찰했고, 그러면서도 이런 망은 아주 깊으면 흔한 초기화로는 학습되지 않는다고 보고했습니다. 또 실제로
#   쓰는 깊은 망은 대부분 스킵 연결이 있는데, Yang 등의 결과는 스킵 연결이 없는 망에 대한 것입니다.

# %% [markdown]
# ## 설명들을 한자리에
#
# 지금까지의 측정을 한 표에 모읍니다. "이 강좌가 잰 것" 열의 숫자는 이 페이지가 계산한 것이거나, 다른
# 강의가 출력한 줄을 그대로 옮긴 것입니다. 옮긴 줄은 아래 `CITED`에 모아 두었고, 테스트
# (`tests/test_lesson_citations.py`)가 그 줄들이 해당 강의의 고정된 출력에 그대로 있는지 확인합니다. 그 강의의
# 결과가 바뀌면 이 표도 고쳐야 한다는 것을 테스트가 알려 줍니다.

# %%
CITED = {  # 강의 이름 -> 그 강의가 출력한 줄(또는 그 앞부분)들
    "07_digits_training": ["학습 후반에 중앙값이 덜 움직인 쪽: BN 있음 (0.43 대 3.99)"],
    "09_regularization": [
        "→ BN은 배치 8, 32, 128, 512에서 테스트 정확도를 뚜렷이 높였지만, 일반화 간격은 어느 배치 크기에서도 뚜렷이 줄이지 못했습니다.",
        "→ 잡음을 키워도 테스트 정확도와 간격이 뚜렷이 바뀌지 않았습니다. 이 실험에서는 BN 통계의 잡음이 규제로 작동했다는 증거가 없습니다.",
    ],
    "10_why_it_works": [
        "→ 두 잡음 모두 분포를 표준 모델보다 크게 흔들면서도 모든 시드에서 표준 모델보다 높은 정확도에 닿았습니다.",
        "학습률 0.1: 날것의 두 양은 시드나 양에 따라 달랐고, 거리로 나눈 유효 β는 모든 시드에서 BN 쪽이 컸습니다",
        "학습률 0.3: 날것의 두 양은 모든 시드에서 BN 쪽이 작았고, 거리로 나눈 유효 β도 모든 시드에서 BN 쪽이 작았습니다",
    ],
}
ics_07, = CITED["07_digits_training"]
gap_09, noise_09 = CITED["09_regularization"]
noise_10, smooth_01, smooth_03 = CITED["10_why_it_works"]
pythagoras_all = torch.cat([run[4] for run in lr_runs.values()])
rows = [
    ["내부 공변량 변화를 줄인다 (Ioffe & Szegedy, 2015)",
     "층 입력의 분포를 안정시키는 것이 효과의 원인이라면, 분포를 일부러 흔든 망은 배치 정규화가 없는 망보다 잘 학습하지 못한다",
     f"강의 7: \"{ics_07}\" / 강의 10: \"{noise_10}\"",
     "내부 공변량 변화를 무엇으로 잴지부터 합의가 없습니다. 분포의 안정이 도움이 되는 조건이 따로 있는지는 열려 있습니다"],
    ["손실 지형을 매끄럽게 한다 (Santurkar 등, 2018)",
     "움직인 거리로 나눈 기울기의 변화(유효 β)가 BN 쪽에서 작다",
     f"강의 10: \"{smooth_01}\" / \"{smooth_03}\"",
     "파라미터 공간의 거리는 스케일 불변인 가중치의 크기에 매여 있어 모델 사이의 비교가 까다롭습니다"],
    ["스케일 불변성과 유효 학습률 (van Laarhoven, 2017; Arora, Li & Lyu, 2019)",
     "BN 앞 가중치의 기울기는 가중치에 수직이고 ‖w‖가 커지며 유효 학습률이 스스로 줄어든다. 가중치 감쇠는 유효 학습률을 키운다",
     f"이 강의: 피타고라스 식의 비 {fmt(pythagoras_all.median(), 4)} (전체 범위 {fmt(pythagoras_all.min(), 4)} ~ "
     f"{fmt(pythagoras_all.max(), 4)}); 학습률 {', '.join(f'{lr:g}' for lr in LRS)} → 끝 유효 학습률 "
     f"{', '.join(fmt(v, 4) for v in end_eff.values())} (시드 중앙값); "
     f"λ = {DECAYS[1]:g}이면 끝 유효 학습률 {spread(grow, 2)}배; 학습률 {largest:g}의 정확도 {spread(accs)}",
     "스케일 불변이 아닌 파라미터(마지막 층, γ, β)는 이 설명의 밖에 있습니다. 유효 학습률이 일반화에 주는 영향도 따로 재야 합니다"],
    ["배치 통계의 잡음이 규제 효과를 낸다",
     "학습 데이터와 테스트 데이터의 정확도 차이(일반화 간격)가 줄고, 잡음의 크기를 바꾸면(배치 크기, 고스트 배치 "
     "정규화의 가상 배치 크기) 그 효과도 따라 바뀐다",
     f"강의 9: \"{gap_09}\" / \"{noise_09}\"",
     "강의 9는 8×8 숫자 512장과 은닉층 하나로 잰 것입니다. 큰 합성곱 신경망에서 고스트 배치 정규화가 큰 배치의 "
     "일반화 간격을 줄였다는 보고(Hoffer 등, 2017)와 어떤 조건에서 갈리는지는 열려 있습니다"],
    ["(주의) 초기화 때의 기울기 폭주 (Yang 등, 2019)",
     "스킵 연결이 없는 깊은 BN 망에서 초기 기울기가 깊이에 따라 지수적으로 커지고, 배치가 작을수록 심하다",
     f"이 강의: 깊이 50에서 첫 층 / 마지막 은닉층 {magnitude(bn50)}배(BN), {magnitude(he50)}배(BN 없음, He 초기화); 층마다 배율 "
     + ", ".join(f"배치 {size}: {fmt(torch.tensor(r).median(), 3)}" for size, r in rate_by_batch.items()),
     "이 크기의 망에서 학습이 실제로 얼마나 방해받는지는 재지 않았습니다"],
]
display(text_table(["설명", "예측", "이 강좌가 잰 것", "남은 질문"], rows))

# %% [markdown]
# 표의 강의: [실제 데이터로 학습하기](07_digits_training.py)(강의 7),
# [규제 효과와 배치 크기](09_regularization.py)(강의 9), [BN은 왜 효과가 있을까](10_why_it_works.py)(강의 10).
#
# 이 표에서 어느 한 줄을 "배치 정규화가 효과가 있는 진짜 이유"로 읽으면 안 됩니다. 설명들은 서로 배타적이지
# 않고(예를 들어 유효 학습률이 줄어드는 것은 파라미터 공간의 매끄러움 측정에도 나타납니다), 각 측정은
# 작은 모델과 데이터 하나, 시드 몇 개로 한 것입니다. 배치 정규화가 왜 효과가 있는지는 아직 정리되지 않았고,
# 이 강좌가 할 수 있는 것은 각 설명이 무엇을 예측하는지 적고 그 예측을 재 보는 것까지입니다.

# %% [markdown]
# ## 정리
#
# - 배치 정규화 바로 앞 가중치는 스케일 불변입니다. 기울기는 $1/a$배가 되고 가중치에 수직이어서, SGD는
#   가중치를 늘이기만 하고 유효 학습률 $\eta / \lVert w \rVert^2$는 학습 중에 스스로 줄어듭니다.
# - 가중치 감쇠는 이 가중치에 유효 학습률을 키우는 쪽으로 작용합니다.
# - 스킵 연결이 없는 깊은 배치 정규화 망에서는 초기 기울기가 입력 쪽으로 갈수록 커질 수 있고, 배치가
#   작을수록 그 배율이 커질 수 있습니다. 이 페이지의 출력이 이 작은 망에서의 크기를 보여 줍니다.
# - 배치 정규화가 왜 효과가 있는지에 대한 설명들은 아직 겨루는 중입니다.
#
# 용어는 [용어집](../glossary.md)에 정리해 두었습니다.

# %% [markdown]
# ## 연습 문제
#
# **1.** 가중치 감쇠 없이 SGD 모멘텀을 쓰면 $\lVert w_{t+1} \rVert^2 = \lVert w_t \rVert^2 + \eta^2 \lVert g_t
# \rVert^2$가 여전히 성립할까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 성립하지 않습니다. 모멘텀을 쓰면 한 걸음은 $-\eta v_t$이고, $v_t$는 지난 기울기들을 누적한 것입니다.
# 지금의 기울기 $g_t$는 지금의 $w_t$에 수직이지만, 지난 기울기들은 그때의 가중치에 수직이었을 뿐 지금의
# $w_t$에 수직이라는 보장이 없습니다. 그래서 $\lVert w \rVert$가 줄어드는 스텝도 생길 수 있습니다.
# `tracked_run`에서 `train(..., momentum=0.9)`로 바꿔 "피타고라스 식의 비"를 다시 재 보세요.
#
# </details>
#
# **2.** 가중치 감쇠의 효과 가운데 유효 학습률을 통한 몫만 떼어 보려면 어떻게 실험하면 될까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 감쇠를 배치 정규화 앞 가중치에만 걸고, 마지막 층과 γ, β에는 걸지 않습니다. `torch.optim.SGD`에 파라미터
# 그룹 두 개(`weights_feeding_bn(model)`의 가중치와 나머지)를 주고 그룹마다 `weight_decay`를 따로 정하면
# 됩니다. 그러면 출력은 감쇠에 영향을 받지 않고, 바뀌는 것은 그 가중치의 크기, 곧 유효 학습률뿐입니다.
# 같은 유효 학습률 곡선을 감쇠 없이 학습률을 스텝마다 키워서 흉내 낼 수도 있습니다.
#
# </details>
#
# **3.** 깊이 50인 배치 정규화 망의 첫 층 기울기가 마지막 은닉층보다 훨씬 크다면, 같은 학습률로 SGD 한
# 걸음을 디딘 뒤 두 층의 유효 학습률은 어떻게 될까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 두 층 모두 배치 정규화 앞 가중치이므로 $\lVert w \rVert^2$가 $\eta^2 \lVert g \rVert^2$만큼 늘어납니다.
# 기울기가 큰 첫 층의 가중치가 훨씬 많이 커지므로, 첫 층의 유효 학습률이 크게 줄어듭니다. 기울기가 큰 층이
# 스스로 걸음을 줄이는 셈입니다. 다만 첫 걸음 자체는 이미 큰 걸음으로 디딘 뒤라서, 그 사이에 무슨 일이
# 일어나는지는 학습해 보아야 압니다.
#
# </details>
