"""bnref 대 torch의 네이티브 BatchNorm: 순전파+역전파 시간과 float64 기준값 대비 오차.

실행: ``python -m bnref.course.bench`` (또는 ``make bench``). 시험(test)이 아니라 측정입니다.
CPU, float32, 학습 모드. 두 구현을 번갈아(interleaved) 여러 번 돌려 중앙값(median)을 비교합니다.
"""
import argparse
import statistics
import time

import torch

import bnref

SHAPES = [(4096, 1024), (32, 64, 56, 56)]


def _module(lib, shape):
    cls = {2: lib.BatchNorm1d, 4: lib.BatchNorm2d}[len(shape)]
    return cls(shape[1])


def _step(bn, x, grad):
    """정방향 + 역전파 한 번. 기울기는 매번 새로 받습니다."""
    x.grad = None
    bn.weight.grad = bn.bias.grad = None
    bn(x).backward(grad)


def _errors(bn, x, grad, ref):
    """출력·dx·dγ 의 최대 상대 오차 (기준값의 최대 절댓값으로 나눔)."""
    x = x.detach().clone().requires_grad_()
    bn.weight.grad = bn.bias.grad = None
    y = bn(x)
    y.backward(grad)
    got = (y, x.grad, bn.weight.grad)
    rel = lambda e, r: (e / r.abs().max()).item()
    return [(rel((g.double() - r).abs().max(), r), rel((g.double() - r).pow(2).mean().sqrt(), r))
            for g, r in zip(got, ref)]


def _reference(x, grad):
    """float64 로 한 torch 계산: 비교의 기준값."""
    bn = _module(torch.nn, x.shape).double()
    xd = x.detach().double().requires_grad_()
    y = bn(xd)
    y.backward(grad.double())
    return y.detach(), xd.grad, bn.weight.grad


def _inputs(shape, offset):
    gen = torch.Generator().manual_seed(0)
    x = (torch.randn(shape, generator=gen) * 2 + 1 + offset).requires_grad_()
    grad = torch.randn(shape, generator=gen)
    mods = {"torch": _module(torch.nn, shape), "bnref": _module(bnref, shape)}
    return x, grad, mods


def accuracy(shape, offset=0.0):
    """{"torch": [...], "bnref": [...]}: y, dx, dγ 마다 (최대 상대 오차, RMS 상대 오차)."""
    x, grad, mods = _inputs(shape, offset)
    ref = _reference(x, grad)
    return {name: _errors(bn, x, grad, ref) for name, bn in mods.items()}


def bench(shape, repeats=21, offset=0.0, warmup=10):
    x, grad, mods = _inputs(shape, offset)
    times = {name: [] for name in mods}
    for _ in range(warmup):           # 데우기(warm-up): 큰 버퍼의 첫 할당(page fault) 비용은 빼고 잽니다
        for bn in mods.values():
            _step(bn, x, grad)
    for r in range(repeats):
        order = list(mods) if r % 2 == 0 else list(mods)[::-1]
        for name in order:
            start = time.perf_counter()
            _step(mods[name], x, grad)
            times[name].append(time.perf_counter() - start)
    med = {name: statistics.median(t) * 1e3 for name, t in times.items()}
    return med, accuracy(shape, offset)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--offset", type=float, default=0.0, help="입력에 더할 값 (평균에서 먼 값의 정확도)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (기본: torch 의 기본값)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, float32, training, forward+backward")
    print(f"input = 2·randn + 1 + {args.offset:g};  error = max|got − float64 ref| / max|ref|  (RMS in brackets)")
    names = ["y", "dx", "dγ"]
    print(f"{'shape':>18} | {'torch ms':>8} {'bnref ms':>8} {'ratio':>5} | "
          + " | ".join(f"{'err ' + k + ' torch':>19} {'err ' + k + ' bnref':>19}" for k in names))
    for shape in SHAPES:
        med, err = bench(shape, args.repeats, args.offset)
        cells = [f"{m:7.1e} [{r:7.1e}]" for pair in zip(err["torch"], err["bnref"]) for m, r in pair]
        print(f"{str(shape):>18} | {med['torch']:8.2f} {med['bnref']:8.2f} {med['bnref'] / med['torch']:5.2f} | "
              + " | ".join(f"{cells[2 * i]:>19} {cells[2 * i + 1]:>19}" for i in range(len(names))))

if __name__ == "__main__":
    main()
