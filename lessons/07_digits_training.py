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
# # 실제 데이터로 학습하기
#
# 지금까지는 무작위로 만든 작은 미니배치(mini-batch)로 배치 정규화(batch normalization)가 무엇을
# 계산하는지 확인했습니다. 이번에는 실제 데이터로 신경망을 학습시키면서, 배치 정규화가 학습을
# 어떻게 바꾸는지 직접 잽니다. 같은 모델을 배치 정규화가 있을 때와 없을 때로 나누어 네 가지를
# 비교합니다.
#
# 1. 학습 곡선: 손실(loss)과 정확도(accuracy)가 얼마나 빨리 좋아지는가
# 2. 학습률(learning rate): 얼마나 큰 학습률까지 견디는가
# 3. 초기화(initialization): 가중치의 처음 크기에 얼마나 민감한가
# 4. 원 논문의 그림 1: 한 뉴런이 받는 입력의 분포가 학습 중에 어떻게 움직이는가
#
# 실험 하나하나는 몇 초 안에 끝나도록 작게 잡았습니다. 숫자는 모두 코드가 계산해서 출력한 것이고,
# 시드를 고정했으므로 몇 번을 실행해도 같습니다.

# %%
import matplotlib.pyplot as plt
import sklearn.datasets
import torch
from IPython.display import Markdown, display

from bnref.course.experiments import cnn, load_digits, mlp, train
from bnref.course.printing import fmt, markdown_table
from bnref.course.viz import use_korean_font

use_korean_font()
# 모델이 작아서 스레드를 여럿 쓰면 나눠 주고 기다리는 비용이 계산보다 큽니다. 스레드 하나로 돌립니다.
torch.set_num_threads(1)

# %% [markdown]
# ## 데이터: 8×8 손글씨 숫자
#
# scikit-learn에 들어 있는 손글씨 숫자 데이터(`load_digits`)를 씁니다. 0부터 9까지의 숫자를
# 8×8 픽셀로 줄인 흑백 이미지 1,797장이고, 패키지 안에 들어 있어서 내려받을 필요가 없습니다.
# `bnref.course.experiments.load_digits`는 이것을 학습 데이터(training set)와 테스트 데이터(test set)로
# 나누고, 픽셀마다 평균 0, 분산 1이 되도록 정규화합니다. 이 평균과 분산은 학습 데이터에서만
# 구합니다. 테스트 데이터의 통계를 쓰면 테스트 데이터를 미리 엿보는 셈이 되기 때문입니다.

# %%
data = load_digits()
print("학습 데이터:", tuple(data.x_train.shape), " 테스트 데이터:", tuple(data.x_test.shape))
print("학습 데이터 픽셀 평균:", fmt(data.x_train.mean(), 3))

# 그림은 정규화하기 전의 원래 픽셀 값(0~16)으로 그립니다. 픽셀마다 정규화한 값은 사람 눈에는 알아보기 어렵습니다.
raw = sklearn.datasets.load_digits()
fig, axes = plt.subplots(1, 8, figsize=(6.4, 1.2))
for ax, image, label in zip(axes, raw.images[:8], raw.target[:8]):
    ax.imshow(image, cmap="gray_r")
    ax.set_title(f"{label}")
    ax.axis("off")
fig.suptitle("digits 데이터의 처음 8장 (제목은 정답, 정규화 전)", y=1.05)
plt.show()

# %% [markdown]
# ## 모델: 작은 다층 퍼셉트론
#
# 64개 픽셀을 받아 은닉층(hidden layer) 두 개(각 64개 뉴런(neuron))를 지나 10개 숫자 중 하나를 고르는 다층
# 퍼셉트론(multilayer perceptron, MLP)입니다. `mlp(None)`은 `Linear → ReLU`를 두 번 쌓고,
# `mlp("bn")`은 그 사이에 `bnref.BatchNorm1d`를 넣어 `Linear → BN → ReLU`를 두 번 쌓습니다.
# 배치 정규화가 있을 때는 그 앞 `Linear`의 편향을 뺍니다. 배치 정규화가 평균을 빼면서 편향을
# 어차피 지워 버리고, 그 역할은 시프트 β가 대신하기 때문입니다. 두 모델의 가중치는 같은 시드로
# 초기화합니다.
#
# 학습은 확률적 경사 하강법(stochastic gradient descent, SGD)으로, 샘플 128개짜리 미니배치로
# 합니다. 학습 데이터를 한 번 다 도는 것을 에폭(epoch)이라고 하며, 한 에폭은 10스텝입니다.

# %%
EPOCHS, BATCH = 10, 128

histories = {
    "BN 없음": train(mlp(None), data, epochs=EPOCHS, lr=0.1, batch_size=BATCH),
    "BN 있음": train(mlp("bn"), data, epochs=EPOCHS, lr=0.1, batch_size=BATCH),
}


def plot_curves(histories, title):
    """왼쪽: 스텝마다의 미니배치 손실, 오른쪽: 에폭마다의 테스트 정확도."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9.6, 3.4))
    for name, h in histories.items():
        ax_loss.plot(range(1, len(h.step_loss) + 1), h.step_loss, label=name)
        ax_acc.plot(range(len(h.test_acc)), h.test_acc, marker=".", label=name)
    ax_loss.set_title("학습 손실 (미니배치)")
    ax_loss.set_xlabel("스텝")
    ax_loss.set_ylabel("교차 엔트로피 손실")
    ax_acc.set_title("테스트 정확도")
    ax_acc.set_xlabel("에폭")
    ax_acc.set_ylabel("정확도")
    ax_acc.set_ylim(0, 1)
    for ax in (ax_loss, ax_acc):
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def summary_table(histories, epochs_shown):
    """에폭별 테스트 정확도와 마지막 에폭의 학습 손실."""
    headers = ["모델", *[f"{e}에폭 정확도" for e in epochs_shown], "마지막 에폭 학습 손실"]
    rows = [[name, *[fmt(h.test_acc[e], 3) for e in epochs_shown], fmt(h.train_loss[-1], 4)]
            for name, h in histories.items()]
    display(Markdown(markdown_table(headers, rows)))


plot_curves(histories, "다층 퍼셉트론, 학습률 0.1")
summary_table(histories, [1, 3, EPOCHS])

# %% [markdown]
# 손실은 교차 엔트로피(cross entropy)이고, 정확도는 테스트 데이터 450장 가운데
# 맞힌 비율입니다. 테스트 정확도는 평가 모드(evaluation mode)에서 재므로, 배치 정규화 층은
# 학습 중에 쌓은 이동 평균(running mean)과 이동 분산(running variance)으로 정규화합니다.

# %% [markdown]
# ## 합성곱 신경망에서도
#
# 같은 비교를 작은 합성곱 신경망(convolutional neural network, CNN)으로 해 봅니다. 이미지를
# $(N, 1, 8, 8)$ 모양으로 받아 `Conv 3×3 → [BN] → ReLU → MaxPool`을 두 번 지나고(채널 8개, 16개),
# 마지막에 `Linear`로 10개 숫자를 고릅니다. 배치 정규화는 `bnref.BatchNorm2d`이고, 채널마다
# $N, H, W$ 방향을 모두 모아 통계를 냅니다([CNN 속의 BN](05_batchnorm2d.py)).

# %%
CNN_EPOCHS = 6
images = data.images()  # (N, 64) → (N, 1, 8, 8)
cnn_histories = {
    "BN 없음": train(cnn(None), images, epochs=CNN_EPOCHS, lr=0.1, batch_size=BATCH),
    "BN 있음": train(cnn("bn"), images, epochs=CNN_EPOCHS, lr=0.1, batch_size=BATCH),
}
plot_curves(cnn_histories, "합성곱 신경망, 학습률 0.1")
summary_table(cnn_histories, [1, 3, CNN_EPOCHS])

# %% [markdown]
# ## 학습률: 얼마나 크게 잡을 수 있나
#
# 배치 정규화를 제안한 논문(Ioffe & Szegedy, 2015)은 배치 정규화 덕분에 학습률을 크게 잡을 수 있다고
# 했습니다. 학습률을 0.1부터 세 배 남짓씩 키우면서 5에폭 학습한 뒤의 테스트 정확도를 잽니다. 손실이
# 무한대나 NaN이 되면(발산, divergence) 그 자리에서 멈추고 "발산"이라고 적습니다.

# %%
LEARNING_RATES = [0.1, 0.3, 1.0, 3.0, 10.0]
SWEEP_EPOCHS = 5
THRESHOLD = 0.9  # 이 정확도에 닿으면 "학습이 됐다"고 봅니다


def final_accuracy(h):
    return None if h.diverged else h.test_acc[-1]


def sweep_run(norm, lr):
    """학습한 뒤 (테스트 정확도, 테스트 이미지에 대해 예측한 숫자의 종류 수). 발산하면 (None, None)."""
    model = mlp(norm)
    h = train(model, data, epochs=SWEEP_EPOCHS, lr=lr, batch_size=BATCH)
    if h.diverged:
        return None, None
    with torch.no_grad():
        kinds = model.eval()(data.x_test).argmax(1).unique().numel()
    return h.test_acc[-1], kinds


sweep = {name: [sweep_run(norm, lr) for lr in LEARNING_RATES]
         for name, norm in [("BN 없음", None), ("BN 있음", "bn")]}
lr_results = {name: [acc for acc, _ in runs] for name, runs in sweep.items()}


def cell(acc):
    return "발산" if acc is None else fmt(acc, 3)


headers, rows = ["학습률"], [[f"{lr:g}"] for lr in LEARNING_RATES]
for name, runs in sweep.items():
    headers += [f"{name}: 정확도", f"{name}: 예측한 숫자 종류"]
    for row, (acc, kinds) in zip(rows, runs):
        row += [cell(acc), "-" if kinds is None else str(kinds)]
display(Markdown(markdown_table(headers, rows)))


def largest_good(values, accuracies):
    """정확도가 THRESHOLD 이상인 가장 큰 값 (없으면 None)."""
    good = [v for v, acc in zip(values, accuracies) if acc is not None and acc >= THRESHOLD]
    return max(good) if good else None


for name, accuracies in lr_results.items():
    best = largest_good(LEARNING_RATES, accuracies)
    print(f"{name}: 정확도 {THRESHOLD} 이상인 가장 큰 학습률 =", "없음" if best is None else f"{best:g}")

# %% [markdown]
# 위 두 줄이 이 실험의 답입니다. 두 학습률이 다르다면 그 비가 곧 배치 정규화가 이 모델에서 더
# 견뎌 준 학습률의 배수입니다. 정확도가 "발산"이 아니면서 0.1 근처인 칸이 있다면 "예측한 숫자 종류"를
# 보세요. 1이라면 손실은 유한하지만 모델이 모든 이미지를 같은 숫자로 답하는 것이고, 숫자 10개 중
# 하나를 찍는 셈이라 정확도가 약 0.1이 됩니다. 학습률이 너무 크면 한 번의 큰 걸음으로 ReLU의 입력이
# 모든 샘플에서 음수가 되어(죽은 뉴런) 기울기가 흐르지 않게 되는 일이 흔한 원인입니다.
#
# 왜 배치 정규화가 큰 학습률을 견디게 하는지는 다음 강의 [BN은 왜 효과가 있을까](10_why_it_works.py)에서
# 다룹니다.

# %% [markdown]
# ## 초기화 크기: 가중치가 너무 작거나 클 때
#
# 이번에는 학습률을 0.1로 두고, PyTorch 기본 초기화로 만든 가중치에 0.1부터 10까지의 배율을 곱해
# 시작합니다. 배치 정규화가 없으면 층을 지날 때마다 신호가 배율만큼 줄거나 커집니다. 배치
# 정규화가 있으면 그 바로 앞 `Linear`의 배율 $a$는 배치 정규화의 출력에 아무 영향을 주지 않습니다.
# 평균과 표준편차도 함께 $a$배가 되어 나눗셈에서 지워지기 때문입니다. (마지막 `Linear` 뒤에는 배치
# 정규화가 없으므로, 그 층의 배율은 두 모델 모두에서 출력을 그대로 $a$배 합니다.)
#
# $$\operatorname{BN}(a W x) = \operatorname{BN}(W x) \qquad (a > 0)$$
#
# 그런데 이 성질 때문에 기울기는 거꾸로 $1/a$배가 됩니다. 가중치는 $a$배 큰데 기울기는 $1/a$배이니,
# 같은 학습률에서 가중치가 **상대적으로** 움직이는 폭은 $1/a^2$배입니다. 가중치가 크게 시작하면 배치
# 정규화가 있어도 학습이 느려질 수 있다는 뜻입니다. 2에폭과 5에폭 뒤의 정확도를 함께 봅니다.

# %%
INIT_SCALES = [0.1, 0.3, 1.0, 3.0, 10.0]

init_results = {}
for name, norm in [("BN 없음", None), ("BN 있음", "bn")]:
    for scale in INIT_SCALES:
        h = train(mlp(norm, init_scale=scale), data, epochs=SWEEP_EPOCHS, lr=0.1, batch_size=BATCH)
        init_results[name, scale] = h

headers = ["가중치 배율"]
for name in ["BN 없음", "BN 있음"]:
    headers += [f"{name}: 2에폭", f"{name}: {SWEEP_EPOCHS}에폭"]
rows = []
for scale in INIT_SCALES:
    row = [f"{scale:g}"]
    for name in ["BN 없음", "BN 있음"]:
        h = init_results[name, scale]
        row += [cell(None if h.diverged else h.test_acc[2]), cell(final_accuracy(h))]
    rows.append(row)
display(Markdown(markdown_table(headers, rows)))

for name in ["BN 없음", "BN 있음"]:
    good = [s for s in INIT_SCALES if (final_accuracy(init_results[name, s]) or 0) >= THRESHOLD]
    print(f"{name}: {SWEEP_EPOCHS}에폭 뒤 정확도 {THRESHOLD} 이상인 배율 =",
          ", ".join(f"{s:g}" for s in good) or "없음")

# %% [markdown]
# 표를 읽을 때 두 가지를 보세요. 하나는 배치 정규화가 없는 모델이 배율에 따라 얼마나 달라지는가,
# 다른 하나는 배치 정규화가 있는 모델에서 큰 배율이 학습 속도(2에폭 정확도)를 늦추는가입니다. 뒤의
# 것이 보인다면 원인은 위의 $1/a^2$입니다. 배치 정규화는 신호의 크기 문제를 없애 주지만, 가중치의
# 크기는 학습률이 실제로 얼마나 크게 작용하는지를 통해 여전히 학습에 영향을 줍니다.

# %% [markdown]
# ## 원 논문의 그림 1 다시 그리기
#
# Ioffe와 Szegedy(2015)의 그림 1은 MNIST로 학습하는 동안 시그모이드(sigmoid) 뉴런 하나가 받는 입력의
# 분포가 어떻게 변하는지를 15, 50, 85번째 백분위수(percentile)로 보여 줍니다. 배치 정규화가 없으면
# 분포가 학습 내내 움직이고, 있으면 안정된다는 그림입니다. 논문은 이것을 내부 공변량 변화(internal
# covariate shift)의 예로 들었습니다.
#
# 같은 실험을 작게 다시 합니다. 시그모이드 은닉층 세 개(각 64개 뉴런)를 쌓은 다층 퍼셉트론을
# 15에폭(150스텝) 학습하면서, 5스텝마다 마지막 은닉층 0번 뉴런의 입력(배치 정규화가 있으면 그
# 출력, 곧 시그모이드에 들어가는 값)을 테스트 데이터 전체에 대해 구합니다. 학습은 SGD 모멘텀(SGD
# momentum, 지난 스텝들의 기울기를 누적해 움직이는 방향에 관성을 주는 것)을 0.9로 준 SGD로 합니다.
# 배치 정규화 층의 모멘텀과는 다른 개념입니다.

# %%
PERCENTILES = torch.tensor([0.15, 0.50, 0.85], dtype=torch.float64)
PROBE_EVERY, UNIT = 5, 0


def figure1_run(norm):
    """시그모이드 망을 학습하며 (스텝, 테스트 정확도, 뉴런 입력의 백분위수 3개)를 기록합니다."""
    model = mlp(norm, depth=3, activation="sigmoid")
    last_sigmoid = max(i for i, m in enumerate(model) if isinstance(m, torch.nn.Sigmoid))
    steps, accuracy, percentiles = [], [], []

    def probe(step, model):
        if step % PROBE_EVERY:
            return
        model.eval()  # 테스트 데이터로 재는 동안은 평가 모드 (이동 통계를 건드리지 않음)
        with torch.no_grad():
            z = model[:last_sigmoid](data.x_test)[:, UNIT]  # 시그모이드에 들어가는 값
            correct = (model(data.x_test).argmax(1) == data.y_test).double().mean()
        model.train()
        steps.append(step)
        accuracy.append(correct.item())
        percentiles.append(torch.quantile(z, PERCENTILES).tolist())

    train(model, data, epochs=15, lr=0.3, momentum=0.9, batch_size=BATCH, on_step=probe)
    return steps, accuracy, torch.tensor(percentiles)  # (기록 횟수, 3)


figure1 = {"BN 없음": figure1_run(None), "BN 있음": figure1_run("bn")}

fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.2))
for name, (steps, accuracy, _) in figure1.items():
    axes[0].plot(steps, accuracy, label=name)
axes[0].set_title("(a) 테스트 정확도")
axes[0].set_ylabel("정확도")
axes[0].legend()
for ax, (name, (steps, _, q)) in zip(axes[1:], figure1.items()):
    for j, p in enumerate(["15", "50", "85"]):
        ax.plot(steps, q[:, j], color="C0", linewidth=2 if p == "50" else 1, label=f"{p}번째 백분위수")
    ax.set_title(f"({'b' if name == 'BN 없음' else 'c'}) {name}: 시그모이드 입력")
    ax.legend(fontsize=7)
for ax in axes:
    ax.set_xlabel("스텝")
fig.suptitle("Ioffe & Szegedy(2015) 그림 1 다시 그리기")
fig.tight_layout()
plt.show()

# %% [markdown]
# 그림을 숫자로도 확인합니다. 처음 기록과 마지막 기록의 백분위수, 그리고 **학습 후반**(마지막 절반의
# 기록)에 중앙값(50번째 백분위수)이 오르내린 폭(최댓값 − 최솟값)입니다. 분포가 자리를 잡았다면
# 후반의 폭이 작습니다.

# %%
rows = []
for name, (steps, accuracy, q) in figure1.items():
    late_median = q[len(q) // 2:, 1]
    rows.append([name, f"{steps[0]}", fmt(q[0], 2), fmt(q[-1], 2),
                 fmt(late_median.max() - late_median.min(), 2), fmt(accuracy[-1], 3)])
display(Markdown(markdown_table(
    ["모델", "첫 기록 스텝", "처음 (15, 50, 85)", "끝 (15, 50, 85)", "후반 중앙값 변화 폭", "끝 정확도"],
    rows)))

spread = {name: (q[len(q) // 2:, 1].max() - q[len(q) // 2:, 1].min()).item()
          for name, (_, _, q) in figure1.items()}
calmer = min(spread, key=spread.get)
print(f"학습 후반에 중앙값이 덜 움직인 쪽: {calmer} "
      f"({fmt(spread[calmer], 2)} 대 {fmt(max(spread.values()), 2)})")

# %% [markdown]
# 논문의 주장대로라면 배치 정규화가 있는 쪽의 분포가 더 안정되어야 합니다. 위 줄이 그 비교의 결과입니다.
# 다만 이 그림은 분포가 안정되는 것과 학습이 빨라지는 것이 **함께** 일어난다는 것을 보여 줄 뿐, 앞의 것이
# 뒤의 것의 원인이라는 증거는 아닙니다. 다음 강의에서는 이 둘을 떼어 놓는 실험을 합니다.

# %% [markdown]
# ## 정리
#
# - 같은 모델, 같은 학습률에서 배치 정규화가 있는 모델과 없는 모델의 학습 곡선을 비교했습니다.
# - 학습률과 초기화 배율을 바꿔 가며, 각 모델이 정확도 0.9에 닿는 범위를 쟀습니다.
# - 배치 정규화 바로 앞 층의 가중치 배율은 출력에 영향을 주지 않지만, 그 가중치의 기울기는 $1/a$배가 됩니다.
# - 원 논문의 그림 1처럼 시그모이드 입력의 분포를 따라가 보았습니다.
#
# 용어는 [용어집](../glossary.md)에 정리해 두었습니다.

# %% [markdown]
# ## 연습 문제
#
# **1.** 학습률 실험에서 `batch_size=BATCH`를 `batch_size=None`(학습 데이터 전체가 한 미니배치)으로
# 바꾸면 같은 5에폭 동안 스텝 수는 어떻게 될까요? 정확도는 어떻게 달라질 것 같나요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 한 에폭이 한 스텝이 되므로 5스텝뿐입니다(미니배치 크기가 128일 때는 50스텝). 같은 학습률이면 매개변수가
# 움직인 횟수가 열 배 적으므로 정확도는 대개 훨씬 낮습니다. 스텝 수를 맞춰 비교하려면 에폭을 늘려야
# 합니다. 직접 바꿔 실행해 확인해 보세요.
#
# </details>
#
# **2.** 배치 정규화가 있을 때 $\operatorname{BN}(aWx) = \operatorname{BN}(Wx)$라면, 손실 $L$의 $W$에 대한
# 기울기가 $1/a$배가 되는 이유는 무엇일까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# $f(W) = L(\operatorname{BN}(Wx))$라고 하면 모든 $a > 0$에 대해 $f(aW) = f(W)$입니다. 양변을 $W$로
# 미분하면 $a \, \nabla f(aW) = \nabla f(W)$, 곧 $\nabla f(aW) = \nabla f(W) / a$입니다. 가중치를
# $a$배 키우면 기울기는 $1/a$배가 됩니다. 엡실론 ε 때문에 아주 작은 $a$에서는 정확히 성립하지 않습니다.
#
# </details>
#
# **3.** 그림 1 실험에서 뉴런 하나의 입력 분포를 잴 때 왜 모델을 평가 모드로 바꿨을까요? 학습 모드로
# 재면 무엇이 달라질까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 학습 모드로 테스트 데이터를 넣으면 배치 정규화가 테스트 데이터 450장의 배치 통계로 정규화하고, 이동
# 통계까지 테스트 데이터로 갱신해 버립니다. 그러면 학습에 테스트 데이터가 섞여 들어갑니다. 평가
# 모드에서는 학습 중에 쌓은 이동 통계로 정규화하므로 모델을 바꾸지 않고 잴 수 있습니다.
#
# </details>
