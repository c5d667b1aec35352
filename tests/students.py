"""독자가 쓸 법한 답안들: tests/test_check.py 가 검사기에 넣어 보는 함수.

bnref.course.mistakes 의 "실수한 구현"을 그대로 넣으면 검사기가 자기 자신과 비교하는 셈이라 아무것도
증명하지 못합니다. 그래서 같은 실수를 **다른 모양의 코드로** 다시 썼습니다: 합을 n으로 나누기, 반복문,
제자리 연산, 연쇄 법칙을 한 단계씩 따라가는 역전파, torch.nn.functional 의 다른 함수 등.
이름은 ``<연습 문제>_<실수의 key>``, 맞는 답은 ``<연습 문제>_ok``.
"""
import torch
import torch.nn.functional as F

import bnref


# ================================================================ 1. batch_norm_train(x, gamma, beta, eps)
def train_ok(x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    mu = x.sum(0) / n
    sigma2 = ((x - mu) ** 2).sum(0) / n
    return gamma * (x - mu) * (sigma2 + eps) ** -0.5 + beta


def train_ok_float32(x, gamma, beta, eps=1e-5):
    x32 = x.float()
    y = (x32 - x32.mean(0)) / torch.sqrt(x32.var(0, unbiased=False) + eps)
    return gamma.float() * y + beta.float()


def train_unbiased_var(x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    mu = x.sum(0) / n
    sigma2 = ((x - mu) ** 2).sum(0) / (n - 1)
    return gamma * (x - mu) * (sigma2 + eps) ** -0.5 + beta


def train_no_eps(x, gamma, beta, eps=1e-5):
    xc = x - x.mean(0)
    return gamma * xc / xc.pow(2).mean(0).sqrt() + beta


def train_eps_outside_sqrt(x, gamma, beta, eps=1e-5):
    xc = x - x.mean(0)
    return gamma * xc / (xc.pow(2).mean(0).sqrt() + eps) + beta


def train_no_sqrt(x, gamma, beta, eps=1e-5):
    xc = x - x.mean(0)
    return gamma * xc / (xc.pow(2).mean(0) + eps) + beta


def train_wrong_dim(x, gamma, beta, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return gamma * (x - mu) / torch.sqrt(var + eps) + beta


def train_mean_not_subtracted(x, gamma, beta, eps=1e-5):
    return gamma * x * torch.rsqrt(x.var(0, correction=0) + eps) + beta


def train_gamma_beta_swapped(x, gamma, beta, eps=1e-5):
    x_hat = (x - x.mean(0)) / (x.var(0, unbiased=False) + eps).sqrt()
    return x_hat * beta + gamma


def train_forgets_gamma(x, gamma, beta, eps=1e-5):
    centred = x - x.mean(0, keepdim=True)
    return centred / (centred.pow(2).mean(0) + eps).sqrt() + beta


def train_modified_input(x, gamma, beta, eps=1e-5):
    x -= x.mean(dim=0)
    x /= torch.sqrt(x.pow(2).mean(dim=0) + eps)
    return gamma * x + beta


def train_wrong_shape(x, gamma, beta, eps=1e-5):
    rows = x.t()  # (C, N): 특성마다 한 줄
    mu, var = rows.mean(1, keepdim=True), rows.var(1, unbiased=False, keepdim=True)
    return gamma[:, None] * (rows - mu) / torch.sqrt(var + eps) + beta[:, None]  # (C, N)을 그대로 돌려줌


def train_not_a_known_mistake(x, gamma, beta, eps=1e-5):
    return torch.tanh(x - x.mean(0)) * gamma + beta


def train_wrong_type(x, gamma, beta, eps=1e-5):
    return (gamma * (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps) + beta).tolist()


def train_not_implemented(x, gamma, beta, eps=1e-5):
    ...


def train_raises_not_implemented(x, gamma, beta, eps=1e-5):
    raise NotImplementedError


def train_broadcast_error(x, gamma, beta, eps=1e-5):
    mu = x.mean(1)  # (N,): (N, C)에 브로드캐스팅되지 않음
    return gamma * (x - mu) / torch.sqrt(x.var(1, unbiased=False) + eps) + beta


def train_two_arguments(x, gamma):
    return x


def train_calls_bnref_wrongly(x, gamma, beta, eps=1e-5):
    return bnref.functional.batch_norm(x, None, None, gamma[:-1], beta, training=True, eps=eps)  # γ 하나가 빠짐


# ================================================================ 2. update_running_stats(x, rm, rv, momentum)
def running_ok(x, running_mean, running_var, momentum=0.1):
    n = x.shape[0]
    mu = x.sum(0) / n
    s2 = ((x - mu) ** 2).sum(0) / (n - 1)
    return running_mean + momentum * (mu - running_mean), running_var + momentum * (s2 - running_var)


def running_ok_in_place(x, running_mean, running_var, momentum=0.1):
    running_mean.mul_(1 - momentum).add_(momentum * x.mean(0))
    running_var.mul_(1 - momentum).add_(momentum * x.var(0))


def running_biased_running_var(x, running_mean, running_var, momentum=0.1):
    mu, var = x.mean(0), x.var(0, correction=0)
    return running_mean + momentum * (mu - running_mean), running_var + momentum * (var - running_var)


def running_momentum_reversed(x, running_mean, running_var, momentum=0.1):
    keep = 1 - momentum  # 케라스(Keras)처럼 생각함
    return keep * x.mean(0) + momentum * running_mean, keep * x.var(0) + momentum * running_var


def running_running_replaced(x, running_mean, running_var, momentum=0.1):
    return x.mean(dim=0).clone(), x.var(dim=0).clone()


def running_forgets_the_variance(x, running_mean, running_var, momentum=0.1):
    running_mean = running_mean * (1 - momentum) + x.mean(0) * momentum
    return running_mean, running_var


def running_rebinds(x, running_mean, running_var, momentum=0.1):
    running_mean = (1 - momentum) * running_mean + momentum * x.mean(0)  # 이름만 다시 묶임 (바깥은 그대로)
    running_var = (1 - momentum) * running_var + momentum * x.var(0)


# ================================================================ 3. batch_norm_eval(x, rm, rv, gamma, beta, eps)
def eval_ok(x, running_mean, running_var, gamma, beta, eps=1e-5):
    scale = gamma / torch.sqrt(running_var + eps)
    return x * scale + (beta - running_mean * scale)


def eval_batch_stats_in_eval(x, running_mean, running_var, gamma, beta, eps=1e-5):
    mu = x.sum(0) / len(x)  # 학습 모드의 코드를 그대로 가져옴
    var = ((x - mu) ** 2).sum(0) / len(x)
    return gamma * (x - mu) / torch.sqrt(var + eps) + beta


def eval_calls_training_mode(x, running_mean, running_var, gamma, beta, eps=1e-5):
    return F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)


def eval_updates_running_in_eval(x, running_mean, running_var, gamma, beta, eps=1e-5):
    running_mean.mul_(0.9).add_(0.1 * x.mean(0))  # 학습 모드의 코드를 그대로 가져옴
    running_var.mul_(0.9).add_(0.1 * x.var(0))
    return gamma * (x - running_mean) / torch.sqrt(running_var + eps) + beta


def eval_updates_a_copy(x, running_mean, running_var, gamma, beta, eps=1e-5):
    m = 0.9 * running_mean + 0.1 * x.mean(0)
    v = 0.9 * running_var + 0.1 * x.var(0)
    return gamma * (x - m) / torch.sqrt(v + eps) + beta


def eval_no_eps(x, running_mean, running_var, gamma, beta, eps=1e-5):
    return gamma * (x - running_mean) / running_var.sqrt() + beta


def eval_eps_after_the_root(x, running_mean, running_var, gamma, beta, eps=1e-5):
    std = running_var ** 0.5
    return (x - running_mean) / (std + eps) * gamma + beta


def eval_no_sqrt(x, running_mean, running_var, gamma, beta, eps=1e-5):
    return gamma * (x - running_mean) / (running_var + eps) + beta


def eval_gamma_beta_swapped(x, running_mean, running_var, gamma, beta, eps=1e-5):
    return F.batch_norm(x, running_mean, running_var, beta, gamma, training=False, eps=eps)


# ================================================================ 4. batch_norm_2d(x, gamma, beta, eps)
def bn2d_ok(x, gamma, beta, eps=1e-5):
    N, C, H, W = x.shape
    rows = x.permute(0, 2, 3, 1).reshape(-1, C)  # (N·H·W, C)
    rows = (rows - rows.mean(0)) / torch.sqrt(rows.var(0, unbiased=False) + eps) * gamma + beta
    return rows.reshape(N, H, W, C).permute(0, 3, 1, 2)


def bn2d_per_pixel(x, gamma, beta, eps=1e-5):
    x_hat = (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps)  # (C, H, W)로 브로드캐스팅됨
    return gamma[:, None, None] * x_hat + beta[:, None, None]


def bn2d_per_sample_channel(x, gamma, beta, eps=1e-5):
    flat = x.flatten(2)  # (N, C, H·W)
    x_hat = (flat - flat.mean(-1, keepdim=True)) / (flat.var(-1, unbiased=False, keepdim=True) + eps).sqrt()
    return x_hat.view_as(x) * gamma.view(1, -1, 1, 1) + beta.view(1, -1, 1, 1)


def bn2d_per_sample(x, gamma, beta, eps=1e-5):
    mu = x.flatten(1).mean(1).view(-1, 1, 1, 1)
    var = x.flatten(1).var(1, unbiased=False).view(-1, 1, 1, 1)
    return gamma.view(1, -1, 1, 1) * (x - mu) / torch.sqrt(var + eps) + beta.view(1, -1, 1, 1)


def bn2d_unbiased_var(x, gamma, beta, eps=1e-5):
    mu = x.mean((0, 2, 3), keepdim=True)
    var = x.var((0, 2, 3), keepdim=True)
    return gamma.view(1, -1, 1, 1) * (x - mu) / torch.sqrt(var + eps) + beta.view(1, -1, 1, 1)


def bn2d_no_eps(x, gamma, beta, eps=1e-5):
    mu = x.mean((0, 2, 3), keepdim=True)
    sd = x.std((0, 2, 3), unbiased=False, keepdim=True)
    return gamma.view(1, -1, 1, 1) * (x - mu) / sd + beta.view(1, -1, 1, 1)


def bn2d_no_keepdim(x, gamma, beta, eps=1e-5):
    mu = x.mean((0, 2, 3))  # (C,)는 W 축에 맞춰짐
    return gamma * (x - mu) / torch.sqrt(x.var((0, 2, 3), unbiased=False) + eps) + beta


def bn2d_view_after_transpose(x, gamma, beta, eps=1e-5):
    C = x.shape[1]
    rows = x.transpose(0, 1).view(C, -1)  # 연속이 아닌 텐서에 view
    mu, var = rows.mean(1), rows.var(1, unbiased=False)
    return gamma.view(1, -1, 1, 1) * (x - mu.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + eps) \
        + beta.view(1, -1, 1, 1)


# ================================================================ 5. batch_norm_backward(dy, x, rm, rv, γ, training, eps)
def _staged(dy, x, gamma, eps, keep_mean_path=True, keep_var_path=True):
    """강의 6처럼 계산 그래프를 한 단계씩 거꾸로 (학습 모드)."""
    n = x.shape[0]
    mu = x.sum(0) / n
    xmu = x - mu
    var = (xmu ** 2).sum(0) / n
    invstd = (var + eps) ** -0.5
    xhat = xmu * invstd
    dbeta = dy.sum(0)
    dgamma = (dy * xhat).sum(0)
    dxhat = dy * gamma
    dxmu = dxhat * invstd
    if keep_var_path:
        dvar = (dxhat * xmu).sum(0) * -0.5 * (var + eps) ** -1.5
        dxmu = dxmu + 2 * xmu * dvar / n
    dx = dxmu
    if keep_mean_path:
        dx = dx - dxmu.sum(0) / n
    return dx, dgamma, dbeta


def _eval_grads(dy, x, running_mean, running_var, gamma, eps):
    invstd = (running_var + eps) ** -0.5
    return gamma * invstd * dy, (dy * (x - running_mean) * invstd).sum(0), dy.sum(0)


def backward_ok(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    if training:
        return _staged(dy, x, gamma, eps)
    return _eval_grads(dy, x, running_mean, running_var, gamma, eps)


def backward_no_mean_term(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    if training:
        return _staged(dy, x, gamma, eps, keep_mean_path=False)
    return _eval_grads(dy, x, running_mean, running_var, gamma, eps)


def backward_no_var_term(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    if training:
        return _staged(dy, x, gamma, eps, keep_var_path=False)
    return _eval_grads(dy, x, running_mean, running_var, gamma, eps)


def backward_eval_formula_in_train(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    if training:
        mean, var = x.mean(0), x.var(0, unbiased=False)
        return _eval_grads(dy, x, mean, var, gamma, eps)
    return _eval_grads(dy, x, running_mean, running_var, gamma, eps)


def backward_no_gamma_in_dx(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    ones = torch.ones_like(gamma)
    if training:
        dx, _, _ = _staged(dy, x, ones, eps)
        return (dx,) + _staged(dy, x, gamma, eps)[1:]
    dx, dgamma, dbeta = _eval_grads(dy, x, running_mean, running_var, ones, eps)
    return dx, dgamma, dbeta


def backward_dgamma_wrong_dim(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    dx, _, dbeta = backward_ok(dy, x, running_mean, running_var, gamma, training, eps)
    mean, var = (x.mean(0), x.var(0, unbiased=False)) if training else (running_mean, running_var)
    return dx, torch.einsum("nc,nc->n", dy, (x - mean) / torch.sqrt(var + eps)), dbeta


def backward_train_formula_in_eval(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    mean = x.mean(0) if training else running_mean
    var = x.var(0, unbiased=False) if training else running_var
    n, invstd = x.shape[0], 1 / torch.sqrt(var + eps)
    xhat = (x - mean) * invstd
    dgamma, dbeta = (dy * xhat).sum(0), dy.sum(0)
    return gamma * invstd / n * (n * dy - dbeta - xhat * dgamma), dgamma, dbeta


def backward_batch_stats_in_eval(dy, x, running_mean, running_var, gamma, training, eps=1e-5):
    return _staged(dy, x, gamma, eps)  # training을 보지 않음


# ================================================================ 6. group_norm(x, num_groups, gamma, beta, eps)
def _by_group(x, num_groups, eps, groups_of, dims=(1, 2, 3), unbiased=False, add_eps=True):
    out = torch.empty_like(x)
    for index in groups_of(x.shape[1], num_groups):
        part = x[:, index]
        mu = part.mean(dim=dims, keepdim=True)
        var = part.var(dim=dims, unbiased=unbiased, keepdim=True)
        out[:, index] = (part - mu) / torch.sqrt(var + eps if add_eps else var)
    return out


def _neighbours(C, G):
    return [list(range(g * (C // G), (g + 1) * (C // G))) for g in range(G)]


def _affine(y, gamma, beta):
    return y * gamma[None, :, None, None] + beta[None, :, None, None]


def group_ok(x, num_groups, gamma, beta, eps=1e-5):
    return _affine(_by_group(x, num_groups, eps, _neighbours), gamma, beta)


def group_group_across_batch(x, num_groups, gamma, beta, eps=1e-5):
    return _affine(_by_group(x, num_groups, eps, _neighbours, dims=(0, 1, 2, 3)), gamma, beta)


def group_groups_interleaved(x, num_groups, gamma, beta, eps=1e-5):
    every_gth = lambda C, G: [list(range(g, C, G)) for g in range(G)]  # noqa: E731  x[:, g::G]
    return _affine(_by_group(x, num_groups, eps, every_gth), gamma, beta)


def group_groups_ignored(x, num_groups, gamma, beta, eps=1e-5):
    return _affine(F.layer_norm(x, x.shape[1:], eps=eps), gamma, beta)


def group_group_per_channel(x, num_groups, gamma, beta, eps=1e-5):
    return F.instance_norm(x, weight=gamma, bias=beta, eps=eps)


def group_unbiased_var(x, num_groups, gamma, beta, eps=1e-5):
    return _affine(_by_group(x, num_groups, eps, _neighbours, unbiased=True), gamma, beta)


def group_no_eps(x, num_groups, gamma, beta, eps=1e-5):
    return _affine(_by_group(x, num_groups, eps, _neighbours, add_eps=False), gamma, beta)
