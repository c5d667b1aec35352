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
# # 추론 단계의 BN
#
# 학습이 끝난 모델로 새 입력의 답을 내는 일을 추론(inference)이라고 합니다. 이때 배치 정규화(batch
# normalization) 층은 평가 모드(evaluation mode)로 동작해, 학습 중에 모아 둔 이동 평균(running mean)과
# 이동 분산(running variance)으로 정규화합니다. 그러면 배치 정규화는 채널마다 정해진 수를 곱하고
# 더하는 아핀 변환(affine transform)일 뿐입니다.
#
# 이 강의에서는 모델을 배포하기 전에 하는 두 가지 손질을 봅니다.
#
# 1. **이동 통계 다시 재기**(BN recalibration): 학습 중의 이동 통계(running statistics)는 지수 이동
#    평균(exponential moving average)이라 정확한 값이 아닙니다. 학습이 끝난 가중치로 학습 데이터를 한 번
#    더 흘려 다시 잽니다.
# 2. **접어 넣기**(BN folding): 평가 모드의 배치 정규화를 바로 앞의 합성곱 층이나 선형층에 합쳐, 층 하나를 통째로
#    없앱니다. 결과는 같고 계산은 줄어듭니다.
#
# 두 가지 모두 `bnref.fuse`에 들어 있습니다. 용어는 [용어집](../glossary.md)에 있습니다.

# %%
import copy
import time

import torch
from IPython.display import Markdown, display
from torch import nn
from torch.nn.utils import fusion

import bnref
from bnref.course import experiments
from bnref.fuse import fuse_conv_bn_eval, fuse_linear_bn_eval, recalibrate_bn
from bnref.course.printing import fmt, markdown_table

# %% [markdown]
# ## 학습한 모델
#
# [실제 데이터로 학습하기](07_digits_training.py)의 손글씨 숫자와 작은 합성곱 신경망(CNN)을 그대로
# 씁니다. 합성곱 → 배치 정규화 → ReLU → 최대 풀링을 두 번 거친 뒤 선형층으로 숫자 10개의 점수를
# 냅니다. 배치 크기 32로, SGD 모멘텀(SGD momentum) 0.9를 준 확률적 경사 하강법(SGD)으로 5 에폭(epoch)
# 학습합니다. 이 모멘텀은 아래에 나오는 배치 정규화의 모멘텀과 다른 개념입니다.

# %%
data = experiments.load_digits().images()  # x: (N, 1, 8, 8)
model = experiments.cnn("bn")
history = experiments.train(model, data, epochs=5, lr=0.1, batch_size=32, momentum=0.9)
model.eval()
print(" → ".join(type(layer).__name__ for layer in model))
print("테스트 정확도:", fmt(history.test_acc[-1]))

# %% [markdown]
# ## 이동 통계는 얼마나 정확한가
#
# 평가 모드가 쓰려는 것은 **학습이 끝난 가중치로** 학습 데이터 전체를 흘렸을 때 배치 정규화 층이 받는
# 값의 평균과 분산입니다. 첫 번째 배치 정규화 층은 바로 앞 합성곱 층의 출력을 받으므로, 그 값을 직접
# 계산해 볼 수 있습니다. 이동 분산에는 불편 분산(unbiased variance)이 들어가므로 같은 것끼리 비교합니다.
#
# 이동 통계는 그렇게 재지 않았습니다. 모멘텀(momentum) 0.1의 지수 이동 평균이라, 마지막 몇십 개
# 미니배치의 배치 통계가 대부분을 차지하고, 그 배치 통계는 가중치가 아직 바뀌던 때의 값입니다.

# %%
conv, bn = model[0], model[1]
with torch.no_grad():
    z = conv(data.x_train)  # 첫 번째 BN 층의 입력, (N, C, H, W)
exact_mean = z.mean((0, 2, 3))
exact_var = z.var((0, 2, 3))  # 불편 분산: running_var에 들어가는 것과 같은 종류

rows = [[f"채널 {c}", bn.running_mean[c], exact_mean[c], bn.running_var[c], exact_var[c]] for c in range(4)]
display(Markdown(markdown_table(["", "이동 평균", "정확한 평균", "이동 분산", "정확한 분산"], rows)))

# %% [markdown]
# 정확한 평균이 0인 데는 까닭이 있습니다. 입력 픽셀은 픽셀마다 학습 데이터 전체의 평균과 표준편차로
# 정규화되어 평균이 0이고, 이 합성곱 층은 편향이 없는 선형 연산(가장자리는 0으로 패딩)이라 출력의 평균도
# 0입니다. 이동 통계는 이 참값과 조금씩 다릅니다. 어긋남은 다음 표의 첫 줄에 최대 오차로 정리합니다.

# %% [markdown]
# ## 다시 재기: 누적 평균
#
# `recalibrate_bn(model, batches)`는 모든 배치 정규화 층의 이동 통계를 처음 값(평균 0, 분산 1)으로
# 되돌리고, `momentum=None`으로 바꾼 뒤 미니배치들을 흘립니다. `momentum=None`이면 층은 학습 모드로
# 불린 횟수를 세는 버퍼 `num_batches_tracked`를 $k$로 써서, $k$번째 미니배치의 몫이 $1/k$인 누적
# 평균(cumulative average)을 냅니다. 그러면 모든 미니배치가 같은 무게로 들어갑니다. 배치 정규화 층만 학습
# 모드로 두고 나머지는 평가 모드로 흘리며, 끝나면 층마다 모드와 모멘텀을 원래대로 돌려놓습니다.
#
# PyTorch에도 같은 누적 평균으로 이동 통계를 다시 재는 `torch.optim.swa_utils.update_bn`이 있습니다.
# 다른 점은 모드입니다. `update_bn`은 배치 정규화 층만이 아니라 모델 전체를 학습 모드로 두고 흘립니다.
# 이 차이가 언제 결과를 바꾸는지는 연습 문제 1에서 생각해 봅니다. 또 `update_bn`은 torch의 배치 정규화
# 층만 찾으므로 `bnref`의 층은 건드리지 않습니다.
#
# 두 가지로 해 봅니다. 학습 때처럼 32개씩 나눈 미니배치를 모두 흘리는 방법과, 학습 데이터 전체를
# 미니배치 하나로 한 번 흘리는 방법입니다. 뒤의 것은 첫 번째 층에서 위의 정확한 통계와 정의상 같습니다.
# 그다음 층들도 앞 층이 정확한 통계로 정규화한 값을 받으므로 평가 모드가 쓰려는 통계를 거의 그대로
# 얻습니다. "거의"인 까닭은 흘리는 동안 앞 층이 학습 모드라 편향 분산($n$으로 나눈 분산)으로 나누고,
# 평가 모드에서는 불편 분산으로 나누기 때문입니다. 여기서 $n$은 채널마다 수만 개라 그 차이는 무시할 만합니다.
# 메모리가 허락할 때만 쓸 수 있는 방법입니다.

# %%
def stat_errors(m):
    """첫 번째 BN 층의 이동 통계와 정확한 통계의 차이: (평균의 최대 오차, 분산의 최대 상대 오차)."""
    return ((m[1].running_mean - exact_mean).abs().max().item(),
            (m[1].running_var / exact_var - 1).abs().max().item())


n = len(data.y_train) // 32 * 32
by_batches = recalibrate_bn(copy.deepcopy(model), [data.x_train[i:i + 32] for i in range(0, n, 32)])
full = recalibrate_bn(copy.deepcopy(model), [data.x_train])

rows = []
for name, m in [("학습 중의 이동 통계 (momentum 0.1)", model),
                ("다시 재기: 32개씩 나눈 미니배치로 누적", by_batches),
                ("다시 재기: 학습 데이터 전체 한 번", full)]:
    rows.append([name, *stat_errors(m), *experiments.evaluate(m, data.x_test, data.y_test)])
display(Markdown(markdown_table(["이동 통계", "평균의 최대 오차", "분산의 최대 상대 오차", "테스트 손실", "테스트 정확도"],
                                rows)))

# %% [markdown]
# 미니배치로 나눠 재면 평균은 거의 정확합니다. 모든 미니배치의 크기가 같으면 배치 평균들의 평균이 곧
# 흘린 샘플 전체의 평균이기 때문입니다. 오차가 0이 아닌 것은 32개로 나누어떨어지지 않아 끝에 남은 샘플
# 3개를 흘리지 않았기 때문입니다. 분산은 미니배치 **안의** 분산들의 평균이라 전체 분산과 조금 다릅니다.
# 학습 데이터 전체를 한 번에 흘리면 반올림 오차 안에서 정확합니다.
#
# 테스트 손실과 정확도가 얼마나 바뀌는지는 모델과 학습에 따라 다릅니다. 이 작은 모델에서는 테스트 손실이
# 조금 줄었고, 정확도의 차이는 테스트 이미지 450장 가운데 1장입니다. 시드 하나로 한 번 학습한 결과이므로
# 이것만으로 다시 재기가 정확도를 올린다고 말할 수는 없습니다. 다시 재기가 꼭 필요한 것은 가중치를 학습이
# 끝난 뒤에 바꾼 경우입니다. 여러 시점의 가중치를 평균하는 SWA(stochastic weight averaging) 뒤에는
# 이동 통계가 평균한 가중치와 맞지 않으므로 반드시 다시 잽니다. 가지치기(pruning)나
# 양자화(quantization)로 가중치를 바꾼 뒤에도 이동 통계가 어긋날 수 있으니 다시 재 보는 것이 좋습니다.

# %% [markdown]
# ## 앞 층에 접어 넣기
#
# 평가 모드의 배치 정규화는 채널 $c$마다
#
# $$\mathrm{BN}(z)_c = \gamma_c \frac{z_c - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta_c = s_c z_c + t_c,
# \qquad s_c = \frac{\gamma_c}{\sqrt{\sigma_c^2 + \epsilon}}, \quad t_c = \beta_c - s_c \mu_c$$
#
# 입니다($\mu_c$, $\sigma_c^2$는 이동 평균과 이동 분산). 그 앞의 합성곱 층이 $z_c = W_c * x + b_c$라면
#
# $$\mathrm{BN}(z)_c = (s_c W_c) * x + (s_c b_c + t_c)$$
#
# 이므로, 출력 채널 $c$의 필터에 $s_c$를 곱하고 편향을 $s_c b_c + t_c$로 바꾼 합성곱 층 하나와 같습니다.
# 선형층도 똑같습니다(가중치의 행 $c$에 $s_c$를 곱함). 이것이 배치 정규화를 앞 층에 접어 넣는 것입니다. 앞 층에 편향이 없었다면(이 모델처럼) 새로 생기는 편향이 $t_c$입니다.
#
# `bnref.fuse`의 두 함수 `fuse_conv_bn_eval`과 `fuse_linear_bn_eval`은 `torch.nn.utils.fusion`의 같은
# 이름 함수와 같은 일을 합니다. 아래에서는 이 두 함수로, 모델의 `nn.Sequential`을 훑으며 합성곱·선형층
# 바로 뒤에 배치 정규화 층이 있으면 둘을 접은 층 하나로 바꾸는 함수 `fuse_sequential`을 만듭니다.

# %%
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, bnref.BatchNorm1d, bnref.BatchNorm2d)


def fuse_sequential(model, fuse_conv=fuse_conv_bn_eval, fuse_linear=fuse_linear_bn_eval):
    """평가 모드 nn.Sequential에서 (Conv2d | Linear) 다음의 BN을 앞 층에 접은 새 모델."""
    layers = list(model)
    fused, i = [], 0
    while i < len(layers):
        layer, after = layers[i], layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(layer, (nn.Conv2d, nn.Linear)) and isinstance(after, BATCH_NORMS):
            fuse = fuse_conv if isinstance(layer, nn.Conv2d) else fuse_linear
            fused.append(fuse(layer, after))
            i += 2
        else:
            fused.append(layer)
            i += 1
    return nn.Sequential(*fused).eval()


model = full  # 이동 통계를 다시 잰 모델을 배포합니다
fused = fuse_sequential(model)
print(" → ".join(type(layer).__name__ for layer in fused))
print("합성곱 층의 편향:", [tuple(layer.bias.shape) for layer in fused if isinstance(layer, nn.Conv2d)])

# %% [markdown]
# 배치 정규화 층 두 개가 사라지고 합성곱 층에 편향이 생겼습니다. 같은 입력을 넣어 결과를 비교합니다.
# 또 `torch.nn.utils.fusion`으로 접은 층과 가중치·편향이 같은지도 봅니다. 모델은 float64이므로
# 차이는 반올림 오차 크기여야 합니다.

# %%
torch_fused = fuse_sequential(model, fusion.fuse_conv_bn_eval, fusion.fuse_linear_bn_eval)
with torch.no_grad():
    out, out_fused = model(data.x_test), fused(data.x_test)

layer_diff = max((a.weight - b.weight).abs().max().item() for a, b in zip(fused, torch_fused)
                 if isinstance(a, nn.Conv2d))
bias_diff = max((a.bias - b.bias).abs().max().item() for a, b in zip(fused, torch_fused)
                if isinstance(a, nn.Conv2d))
output_diff = (out - out_fused).abs().max().item()
rows = [["접은 가중치: bnref 대 torch.nn.utils.fusion", layer_diff, layer_diff <= 1e-6],
        ["접은 편향: bnref 대 torch.nn.utils.fusion", bias_diff, bias_diff <= 1e-6],
        ["모델의 출력: 접기 전 대 접은 후", output_diff, output_diff <= 1e-6]]
display(Markdown(markdown_table(["비교", "최대 차이", "1e-6 이하"], rows, digits=8)))
print("예측이 모두 같은가:", torch.equal(out.argmax(1), out_fused.argmax(1)))
print("층 수:", len(model), "->", len(fused))
print("파라미터 수:", sum(p.numel() for p in model.parameters()), "->",
      sum(p.numel() for p in fused.parameters()))

# %% [markdown]
# 파라미터 수가 줄어든 것은 γ와 β가 합성곱 층의 가중치와 편향에 녹아들었기 때문입니다(이동 통계는
# 파라미터가 아니라 버퍼라서 세지 않았습니다). 접은 모델은 학습 모드가 없습니다. 배치 통계로 정규화하는
# 일은 더 이상 할 수 없으므로, 접기는 학습이 완전히 끝난 뒤 배포 직전에 합니다.

# %% [markdown]
# ## 얼마나 빨라지나
#
# 접은 모델에서 없어지는 계산은 모양만으로 셀 수 있습니다. 이미지 한 장에 합성곱·선형층은 출력 값
# 하나마다 (입력 채널 × 필터 크기)번의 곱셈-덧셈을 하고, 층에 편향이 있으면 덧셈을 한 번 더 합니다.
# 평가 모드의 배치 정규화는 출력 값 하나마다 곱셈 한 번($s_c$)과 덧셈 한 번($t_c$)을 합니다. 접으면
# $s_c$는 가중치에 미리 곱해지므로 그 곱셈은 사라지지만, $t_c$는 접은 층의 편향이 되어 덧셈으로 남습니다.
# 이 모델의 합성곱 층에는 원래 편향이 없었으므로, 접으면서 편향의 덧셈이 새로 생깁니다. 각 층의 출력
# 모양은 순전파 훅(forward hook)으로 알아냅니다.

# %%
def count_ops(m, x):
    """이미지 한 장당 연산 수: 합성곱·선형층의 곱셈-덧셈, 배치 정규화의 곱셈(s),
    그리고 덧셈(배치 정규화의 t와 층의 편향)."""
    counts = {"곱셈-덧셈": 0, "곱셈": 0, "덧셈": 0}

    def hook(layer, inputs, out):
        per_image = out[0].numel()
        if isinstance(layer, nn.Conv2d):
            counts["곱셈-덧셈"] += per_image * layer.in_channels // layer.groups * layer.weight[0, 0].numel()
        elif isinstance(layer, nn.Linear):
            counts["곱셈-덧셈"] += per_image * layer.in_features
        elif isinstance(layer, BATCH_NORMS):
            counts["곱셈"] += per_image
            counts["덧셈"] += per_image
        if isinstance(layer, (nn.Conv2d, nn.Linear)) and layer.bias is not None:
            counts["덧셈"] += per_image

    handles = [layer.register_forward_hook(hook) for layer in m]
    with torch.no_grad():
        m(x[:1])
    for h in handles:
        h.remove()
    return counts


before, after = count_ops(model, data.x_test), count_ops(fused, data.x_test)
display(Markdown(markdown_table(
    ["", "합성곱·선형층의 곱셈-덧셈", "그 밖의 곱셈 (BN의 s)", "그 밖의 덧셈 (BN의 t, 층의 편향)"],
    [["접기 전", *map(str, before.values())], ["접은 후", *map(str, after.values())]])))
saved = before["곱셈"] - after["곱셈"]
print("접어서 없어지는 곱셈:", saved, "/ 덧셈의 변화:", after["덧셈"] - before["덧셈"])
print("접기 전 곱셈 가운데 없어지는 몫:", fmt(saved / (before["곱셈-덧셈"] + before["곱셈"]), 3))

# %% [markdown]
# 없어지는 것은 배치 정규화의 곱셈뿐이고, 덧셈의 수는 그대로입니다. 배치 정규화의 덧셈이 합성곱 층의
# 새 편향으로 자리만 옮겼기 때문입니다. 이 모델에서 없어지는 곱셈은 전체 곱셈의 3%쯤이고, 합성곱의
# 필터가 크고 채널이 많을수록 그 몫은 더 작아집니다. 다만 실제 시간은 연산 수만으로 정해지지 않습니다.
# 접으면 층 하나가 통째로 사라지므로, 그 층이 메모리를 한 번 더 읽고 쓰는 일과 층을 부르는 고정 비용도
# 사라집니다. 그래서 시간을 직접 잽니다. 배포 환경처럼 float32로 바꾸고, 테스트 이미지 450장을 한 번에
# 넣는 추론을 여러 번 되풀이해 가장 빠른 시간을 고릅니다. 비교 대상은 셋입니다. `bnref`의 배치 정규화
# 층이 든 모델, 같은 상태를 `torch.nn.BatchNorm2d`에 옮긴 모델, 그리고 접은 모델입니다.

# %%
def as_torch_bn(m):
    """bnref BN 층을 같은 상태의 torch.nn.BatchNorm2d로 바꾼 사본 (state_dict 이름이 같음)."""
    m = copy.deepcopy(m)
    for i, layer in enumerate(m):
        if isinstance(layer, bnref.BatchNorm2d):
            twin = nn.BatchNorm2d(layer.num_features).to(layer.weight.dtype)
            twin.load_state_dict(layer.state_dict())
            m[i] = twin
    return m.eval()


@torch.inference_mode()
def best_time_ms(m, x, repeats=5, calls=10):
    m(x)  # 한 번 미리 돌려 둠
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            m(x)
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1000


x32 = data.x_test.float()
candidates = {"bnref BN": copy.deepcopy(model).float(), "torch BN": as_torch_bn(model).float(),
              "접은 모델": copy.deepcopy(fused).float()}
times = {name: best_time_ms(m, x32) for name, m in candidates.items()}

# %% [markdown]
# 시간은 컴퓨터와 그때의 부하에 따라 달라집니다. 아래 숫자는 이 페이지를 만들 때 잰 한 번의 결과입니다.

# %%
for name, ms in times.items():
    print(f"{name}: {ms:.3f} ms")
print(f"접은 모델의 속도: bnref BN의 {times['bnref BN'] / times['접은 모델']:.2f}배, "
      f"torch BN의 {times['torch BN'] / times['접은 모델']:.2f}배")
fastest = min(times, key=times.get)
print(f"이번 측정에서 가장 빠른 것은 {fastest}입니다."
      + (" 접은 모델이 두 모델보다 빨랐습니다." if fastest == "접은 모델" else
         " 이 크기의 모델에서는 접어서 아낀 시간이 측정 잡음보다 작았습니다."))

# %% [markdown]
# `bnref`의 층은 파이썬으로 쓴 함수라 층을 부르는 비용이 torch의 층보다 크므로, 접어서 얻는 이득도 대개
# 더 큽니다. torch의 배치 정규화 층은 이미 빠른 원소별 연산 한 번이라, 이렇게 작은 모델에서는 그 차이가
# 측정 잡음과 비슷한 크기일 수 있습니다. 시간은 잴 때마다 달라지므로 위의 마지막 줄도 숫자를 비교해
# 출력한 것입니다. 그래도 접기는 반올림 오차 말고는 결과를 바꾸지 않으면서 층과 메모리 읽기를 없애는
# 공짜 이득입니다. 그래서 ONNX Runtime이나 TensorRT 같은 배포 도구는 대개 이것을 자동으로 하고,
# PyTorch의 양자화 도구에도 배치 정규화를 앞의 합성곱 층에 접어 넣는 단계가 있습니다.

# %% [markdown]
# ## 연습 문제
#
# **1.** 이동 통계를 다시 잴 때 모델 전체를 `model.train()`으로 두면 어떤 문제가 생길 수 있을까요?
# 이 모델에는 없지만 드롭아웃(dropout) 층이 있다고 해 봅시다.
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 드롭아웃이 학습 모드에서 값의 일부를 0으로 만들고 나머지를 키우므로, 배치 정규화 층이 받는 값의
# 분포가 평가 때와 달라집니다. 그 통계를 평가 때 쓰면 맞지 않습니다. 그래서 `recalibrate_bn`은 배치
# 정규화 층만 학습 모드로 두고 나머지는 평가 모드로 흘립니다. (`torch.optim.swa_utils.update_bn`은
# 모델 전체를 학습 모드로 둡니다.)
#
# </details>
#
# **2.** 배치 정규화가 합성곱 층 **앞에** 있으면(BN → Conv) 접어 넣을 수 있을까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 입력 채널마다 $s_c x_c + t_c$를 한 뒤 합성곱을 하므로, 필터의 입력 채널 $c$ 부분에 $s_c$를 곱하고
# $t_c$가 만드는 상수를 편향에 더하면 됩니다. 다만 합성곱이 0으로 패딩을 하면 가장자리에서는 $t_c$가
# 더해지지 않은 0이 들어가므로, 가장자리 출력이 달라집니다. 패딩이 없을 때만 정확히 같습니다.
#
# </details>
#
# **3.** `fuse_conv_bn_eval`에 학습 모드의 배치 정규화 층을 주면 `AssertionError: Fusion only for eval!`이
# 납니다. 학습 모드의 배치 정규화는 왜 접을 수 없을까요?
#
# <details markdown="1">
# <summary>풀이</summary>
#
# 학습 모드에서는 들어온 미니배치의 배치 평균과 배치 분산으로 정규화하므로 $s_c$와 $t_c$가 미니배치마다
# 달라집니다. 정해진 수가 아니므로 가중치에 미리 곱해 둘 수 없습니다.
#
# </details>
