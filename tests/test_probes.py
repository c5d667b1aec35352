"""bnref.course.probes (강의 7·11의 측정 도구)와 강의 10·11이 쓰는 experiments의 선택지:
논문식 잡음(NoisyBatchNorm(per="activation")), 가중치 감쇠(train(weight_decay=...)).

측정 도구는 (1) 손으로 계산한 값과 같고 (2) 모델을 바꾸지 않아야 합니다. 스케일 불변성은 시드와 배율을
바꿔 가며 성질로 확인합니다(BN(aWx) = BN(Wx), 기울기 1/a배, 기울기 ⟂ 가중치, SGD 한 걸음의 피타고라스 식).
"""

import copy
import math

import pytest
import torch
from torch import nn

import bnref
from bnref.course.experiments import NoisyBatchNorm, cnn, load_digits, mlp, train
from bnref.course.probes import (dead_relu_fraction, effective_lr, layer_inputs, population_stats,
                                 weight_grad_norms, weights_feeding_bn)

F64 = torch.float64


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def data():
    return load_digits()


def snapshot(model):
    """파라미터, 버퍼, .grad, 모드 — 측정 도구가 바꾸면 안 되는 모든 것."""
    return ({k: v.clone() for k, v in model.state_dict().items()},
            [None if p.grad is None else p.grad.clone() for p in model.parameters()],
            [m.training for m in model.modules()])


def assert_unchanged(model, before):
    state, grads, modes = snapshot(model)
    assert state.keys() == before[0].keys()
    assert all(torch.equal(state[k], before[0][k]) for k in state)
    assert all((a is None and b is None) or torch.equal(a, b) for a, b in zip(grads, before[1]))
    assert modes == before[2]


# ---------------------------------------------------------------- population_stats
@pytest.mark.parametrize("build", [lambda: mlp("bn", depth=3, seed=2), lambda: cnn("bn", seed=2)])
def test_population_stats_are_the_mean_and_biased_variance_of_each_bn_input(build, data):
    model = build()
    x = data.x_test if isinstance(model[0], nn.Linear) else data.images().x_test
    train(model, data if isinstance(model[0], nn.Linear) else data.images(), epochs=1, lr=0.1, batch_size=256)
    model.train()
    before = snapshot(model)
    stats = population_stats(model, x)
    assert_unchanged(model, before)  # 평가 모드로 흘렸으므로 이동 통계도 모드도 그대로
    bns = [i for i, m in enumerate(model) if isinstance(m, bnref.modules._BatchNorm)]
    assert len(stats) == len(bns) > 0
    with torch.no_grad():
        for i, (mean, var) in zip(bns, stats):
            h = model.eval()[:i](x)  # i번째 층(BN)이 받는 값
            dims = [0, *range(2, h.dim())]
            torch.testing.assert_close(mean, h.mean(dims))
            torch.testing.assert_close(var, h.var(dims, correction=0))


def test_population_stats_work_for_torch_batchnorm_too():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    x = torch.randn(50, 3)
    (mean, var), = population_stats(model, x)
    with torch.no_grad():
        h = model[0](x)
    torch.testing.assert_close(mean, h.mean(0))
    torch.testing.assert_close(var, h.var(0, correction=0))


@pytest.mark.parametrize("seed", range(4))
def test_gamma_beta_from_population_stats_undo_bn_exactly_in_eval_mode_only(seed):
    # Ioffe & Szegedy의 "되돌리기": γ = √(Var[x] + ε), β = E[x] (모집단 통계)이면 평가 모드의 BN은 항등 함수.
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(256, 5, generator=g, dtype=F64) * torch.rand(5, generator=g, dtype=F64) * 3 + 2
    bn = bnref.BatchNorm1d(5, dtype=F64)
    (mean, var), = population_stats(nn.Sequential(bn), x)
    with torch.no_grad():
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
        bn.weight.copy_((var + bn.eps).sqrt())
        bn.bias.copy_(mean)
        torch.testing.assert_close(bn.eval()(x), x)
        batch = x[:16]  # 학습 모드는 이 16개의 배치 통계로 정규화하므로 되돌려지지 않습니다
        assert (bn.train()(batch) - batch).abs().max() > 1e-3


# ---------------------------------------------------------------- dead_relu_fraction
def relu_net(bias):
    layer = nn.Linear(2, len(bias))
    with torch.no_grad():
        layer.weight.zero_()
        layer.weight[:, 0] = 1.0
        layer.bias.copy_(torch.tensor(bias))
    return nn.Sequential(layer, nn.ReLU(), nn.Linear(len(bias), 2), nn.ReLU())


def test_dead_relu_fraction_counts_units_off_for_every_sample():
    x = torch.tensor([[0.0, 5.0], [1.0, -5.0], [2.0, 0.0]])  # 0번 입력 특성: 0, 1, 2
    # 뉴런 j의 입력은 x0 + bias_j: bias −3은 모든 샘플에서 음수(죽음), −1.5는 x0 = 2에서만 양수(살아 있음).
    model = relu_net([-3.0, -1.5, 0.5, -10.0])
    before = snapshot(model)
    first, _ = dead_relu_fraction(model, x)
    assert first == 0.5
    assert_unchanged(model, before)


def test_dead_relu_fraction_is_zero_or_one_at_the_extremes():
    x = torch.randn(20, 2)
    assert dead_relu_fraction(relu_net([100.0, 100.0]), x)[0] == 0.0
    assert dead_relu_fraction(relu_net([-100.0, -100.0]), x)[0] == 1.0


def test_dead_relu_fraction_pools_positions_for_images():
    conv = nn.Conv2d(1, 2, 1)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.bias.copy_(torch.tensor([-0.5, -10.0]))
    x = torch.zeros(3, 1, 2, 2)
    x[1, 0, 1, 1] = 1.0  # 채널 0은 샘플 하나의 위치 하나에서만 켜짐 → 살아 있음
    assert dead_relu_fraction(nn.Sequential(conv, nn.ReLU()), x) == [0.5]


def test_layer_inputs_restores_the_mode_and_removes_its_hooks():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU()).train()
    layer_inputs(model, torch.zeros(4, 3), nn.ReLU)
    assert model.training and not model[1]._forward_pre_hooks


# ---------------------------------------------------------------- scale invariance
def test_weights_feeding_bn_are_the_linear_and_conv_weights_right_before_a_bn():
    deep = mlp("bn", depth=3)
    assert [w is m.weight for w, m in zip(weights_feeding_bn(deep), [deep[0], deep[3], deep[6]])] == [True] * 3
    assert weights_feeding_bn(mlp(None, depth=3)) == []
    assert len(weights_feeding_bn(mlp("noisy_bn", depth=2))) == 2  # NoisyBatchNorm 안의 BN도
    assert len(weights_feeding_bn(cnn("bn"))) == 2
    torch_bn = nn.Sequential(nn.Linear(3, 4, bias=False), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    assert len(weights_feeding_bn(torch_bn)) == 1


def test_effective_lr_by_hand_and_its_inverse_square_scaling():
    w = torch.tensor([[3.0, 4.0], [0.0, 1.0]])  # ‖w_j‖² = 25, 1 → 평균 13
    assert effective_lr(w, lr=1.3) == pytest.approx(0.1)
    assert effective_lr(10 * w, lr=1.3) == pytest.approx(0.001)


def tiny_eps(model):
    """ε를 아주 작게: 스케일 불변성은 ε을 빼면 정확한 성질이라, ε의 몫(상대 1e-5 정도)을 지우고 잽니다."""
    for m in model.modules():
        if isinstance(m, bnref.modules._BatchNorm):
            m.eps = 1e-12
    return model


def loss_and_grads(model, x, y):
    out = model.train()(x)
    loss = nn.functional.cross_entropy(out, y)
    return out.detach(), torch.autograd.grad(loss, weights_feeding_bn(model))


@pytest.mark.parametrize("seed", range(6))
def test_scale_invariance_output_same_gradient_over_a_and_orthogonal(seed, data):
    # 성질: 모든 a > 0 (ε의 영향이 없을 만큼)에 대해 BN(aWx) = BN(Wx), ∇f(aW) = ∇f(W)/a, ⟨∇w_j, w_j⟩ = 0.
    g = torch.Generator().manual_seed(seed)
    a = math.exp(torch.empty(1, dtype=F64).uniform_(math.log(0.5), math.log(50.0), generator=g).item())
    idx = torch.randperm(len(data.y_train), generator=g)[:64]
    x, y = data.x_train[idx], data.y_train[idx]
    model = tiny_eps(mlp("bn", depth=2, seed=seed))
    scaled = copy.deepcopy(model)
    layer = int(torch.randint(0, 2, (1,), generator=g))  # 두 BN 앞 가중치 가운데 하나를 a배
    with torch.no_grad():
        weights_feeding_bn(scaled)[layer].mul_(a)
    out, grads = loss_and_grads(model, x, y)
    out_a, grads_a = loss_and_grads(scaled, x, y)
    torch.testing.assert_close(out_a, out, rtol=0, atol=1e-9)
    torch.testing.assert_close(grads_a[layer] * a, grads[layer], rtol=1e-7, atol=1e-12)
    for w, grad in zip(weights_feeding_bn(scaled), grads_a):
        cosine = (grad * w).sum(1) / (grad.norm(dim=1) * w.norm(dim=1))
        assert cosine.abs().max() < 1e-8


def test_without_bn_the_gradient_is_not_orthogonal_to_the_weight(data):
    # 대조군: BN이 없으면 스케일 불변이 아니므로 위 성질이 성립하지 않습니다.
    model = mlp(None, seed=0).train()
    loss = nn.functional.cross_entropy(model(data.x_train[:64]), data.y_train[:64])
    (grad,) = torch.autograd.grad(loss, [model[0].weight])
    w = model[0].weight
    cosine = (grad * w).sum(1) / (grad.norm(dim=1) * w.norm(dim=1))
    assert cosine.abs().max() > 1e-2


@pytest.mark.parametrize("lr", [0.1, 3.0])
def test_an_sgd_step_grows_scale_invariant_weights_by_pythagoras(lr, data):
    model = tiny_eps(mlp("bn", depth=2, seed=1))
    before = [w.detach().pow(2).sum().item() for w in weights_feeding_bn(model)]
    grads = []
    train(model, data, epochs=1, lr=lr, batch_size=1024,  # 한 스텝
          on_step=lambda step, m: grads.extend(w.grad.pow(2).sum().item() for w in weights_feeding_bn(m)))
    after = [w.detach().pow(2).sum().item() for w in weights_feeding_bn(model)]
    for b, a, g2 in zip(before, after, grads):
        assert a - b == pytest.approx(lr ** 2 * g2, rel=1e-6)


# ---------------------------------------------------------------- weight_grad_norms
def test_weight_grad_norms_match_autograd_and_leave_the_model_alone(data):
    model = mlp("bn", depth=3, seed=3)
    model[0].weight.grad = torch.ones_like(model[0].weight)  # 있던 .grad도 그대로여야
    model.eval()
    before = snapshot(model)
    norms = weight_grad_norms(model, data.x_train[:32], data.y_train[:32])
    assert_unchanged(model, before)
    twin = copy.deepcopy(model).train()
    loss = nn.functional.cross_entropy(twin(data.x_train[:32]), data.y_train[:32])
    weights = [m.weight for m in twin if isinstance(m, nn.Linear)]
    expected = [g.norm().item() for g in torch.autograd.grad(loss, weights)]
    assert norms == pytest.approx(expected, rel=1e-12)


def test_deep_bn_net_gradients_grow_toward_the_input_at_init(data):
    # 강의 11이 출력하는 결론의 작은 판: 스킵 연결 없는 깊은 BN 망은 초기화 때 입력 쪽 기울기가 더 큽니다.
    x, y = data.x_train[:128], data.y_train[:128]
    bn = weight_grad_norms(mlp("bn", depth=20, seed=0), x, y)[:-1]
    he = weight_grad_norms(mlp(None, depth=20, init_scale=math.sqrt(6), seed=0), x, y)[:-1]
    assert bn[0] / bn[-1] > 10
    assert 0.1 < he[0] / he[-1] < 10


# ---------------------------------------------------------------- NoisyBatchNorm(per=...)
def test_channel_noise_is_todays_noise_exactly():
    # per="channel"(기본값)은 이 선택지가 생기기 전과 같은 난수를 같은 순서로 씁니다.
    x = torch.randn(16, 3, dtype=F64)
    layer = NoisyBatchNorm(bnref.BatchNorm1d(3, dtype=F64), shift=1.0, scale=2.0, seed=5)
    g = torch.Generator().manual_seed(5)
    for _ in range(3):
        y = layer(x)
        u = torch.rand(2, 3, generator=g, dtype=F64)
        clean = nn.functional.batch_norm(x, None, None, training=True)
        expected = clean * ((2 * u[0] - 1) * math.log(2.0)).exp() + (2 * u[1] - 1) * 1.0
        torch.testing.assert_close(y, expected, rtol=0, atol=1e-12)


def test_activation_noise_is_iid_per_sample_and_activation():
    layer = NoisyBatchNorm(bnref.BatchNorm1d(4, dtype=F64), per="activation", seed=1)
    x = torch.ones(6, 4, dtype=F64) * torch.arange(6, dtype=F64).reshape(6, 1)
    x = torch.cat([x, x])  # 같은 샘플이 두 번씩
    noise = layer(x) - layer.bn(x)
    assert not torch.allclose(noise[:6], noise[6:])  # 같은 샘플도 다른 잡음
    assert not torch.allclose(noise[:, 0], noise[:, 1])  # 같은 샘플의 다른 활성값도 다른 잡음
    channel = NoisyBatchNorm(bnref.BatchNorm1d(4, dtype=F64), per="channel", seed=1)
    shared = channel(x)
    assert torch.equal(shared[:6], shared[6:])  # 채널별 변형은 같은 샘플에 같은 잡음


@pytest.mark.parametrize("shape", [(4096, 3), (256, 3, 4, 4)])
def test_activation_noise_has_one_distribution_per_step_within_the_ranges(shape):
    layer = NoisyBatchNorm(bnref.BatchNorm1d(3, dtype=F64) if len(shape) == 2 else bnref.BatchNorm2d(3, dtype=F64),
                           shift=1.0, scale=2.0, per="activation", seed=0)
    x = torch.randn(*shape, dtype=F64)
    means = []
    for _ in range(3):
        noise = (layer(x) - layer.bn(x)).detach().transpose(0, 1).reshape(3, -1)  # (C, N·…)
        mu, sigma = noise.mean(1), noise.std(1)
        assert (mu.max() - mu.min()) < 0.2 and (sigma.max() / sigma.min()) < 1.1  # 모든 활성값이 같은 분포
        assert mu.mean().abs() < 1.0 + 0.1 and 0.5 * 0.9 < sigma.mean() < 2.0 * 1.1
        means.append(mu.mean().item())
    assert len({round(m, 3) for m in means}) == 3  # 스텝마다 다른 분포


@pytest.mark.parametrize("per", ["channel", "activation"])
def test_noise_is_seeded_and_off_in_eval(per):
    x = torch.randn(8, 3, dtype=F64)
    a = NoisyBatchNorm(bnref.BatchNorm1d(3, dtype=F64), per=per, seed=4)
    b = NoisyBatchNorm(bnref.BatchNorm1d(3, dtype=F64), per=per, seed=4)
    assert torch.equal(a(x), b(x))
    a.eval()
    assert torch.equal(a(x), a.bn(x))


def test_unknown_per_is_refused_at_construction_and_at_forward():
    with pytest.raises(ValueError, match="per must be 'channel' or 'activation'"):
        NoisyBatchNorm(bnref.BatchNorm1d(3), per="sample")
    layer = NoisyBatchNorm(bnref.BatchNorm1d(3))
    layer.per = "sample"
    with pytest.raises(ValueError, match="per must be 'channel' or 'activation'"):
        layer(torch.randn(4, 3))


# ---------------------------------------------------------------- train(weight_decay=...)
def test_weight_decay_is_sgds_weight_decay(data):
    lr, decay = 0.3, 0.05
    model = mlp("bn", seed=2)
    manual = copy.deepcopy(model).train()
    train(model, data, epochs=1, lr=lr, weight_decay=decay)  # 학습 데이터 전체가 한 미니배치: 한 스텝
    loss = nn.functional.cross_entropy(manual(data.x_train), data.y_train)
    grads = torch.autograd.grad(loss, list(manual.parameters()))
    with torch.no_grad():
        for p, g in zip(manual.parameters(), grads):
            p -= lr * (g + decay * p)
    for p, q in zip(model.parameters(), manual.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-12)


def test_no_weight_decay_is_the_default(data):
    a, b = mlp("bn", seed=0), mlp("bn", seed=0)
    assert train(a, data, epochs=1, lr=0.1, batch_size=512) == train(b, data, epochs=1, lr=0.1, batch_size=512,
                                                                      weight_decay=0.0)
    c = mlp("bn", seed=0)
    train(c, data, epochs=1, lr=0.1, batch_size=512, weight_decay=0.1)
    assert not torch.equal(c[0].weight, a[0].weight)
