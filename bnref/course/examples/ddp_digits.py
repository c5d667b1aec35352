"""손글씨 숫자(digits)를 DistributedDataParallel(DDP)로 학습하는 스크립트. 복사해서 고쳐 쓰세요.

프로세스 하나::

    python -m bnref.course.examples.ddp_digits --batch-size 32

기계 한 대에 프로세스 4개 (GPU가 있으면 GPU마다 하나씩)::

    torchrun --standalone --nproc-per-node 4 -m bnref.course.examples.ddp_digits --batch-size 32 --sync-bn

기계 두 대에 2개씩. 두 기계에서 똑같은 명령을 치고, ``HOST``에는 첫 기계의 주소를 적습니다::

    torchrun --nnodes 2 --nproc-per-node 2 --rdzv-backend c10d --rdzv-endpoint HOST:29400 \\
        --rdzv-id digits -m bnref.course.examples.ddp_digits --batch-size 32 --sync-bn

``--batch-size``는 모든 프로세스를 합친 전역 배치(global batch)입니다. 프로세스가 W개면 각자 그
1/W를 받으므로, 프로세스 수를 바꿔도 한 스텝에 쓰는 샘플은 같습니다. 달라지는 것은 BN이 보는
배치뿐입니다: 보통의 BN은 자기 프로세스의 작은 배치로, ``--sync-bn``을 주면 전역 배치 전체로
정규화합니다.

CUDA가 있으면 NCCL 백엔드와 GPU를, 없으면 gloo 백엔드와 CPU를 씁니다. 스크립트의 나머지는 같습니다.
결과(스텝마다의 손실, 에폭마다의 손실과 정확도, 학습이 끝난 뒤의 파라미터와 이동 통계)는 랭크 0이
``--out``의 JSON 파일에 씁니다.
"""

import argparse
import hashlib
import json
import os
import sys

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.elastic.multiprocessing.errors import record
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

import bnref


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Train a small MLP with BatchNorm on the digits data "
                                     "(one process, or several under torchrun).")
    parser.add_argument("--batch-size", type=int, default=32,
                        help="global batch: all processes together (each gets batch-size / world size)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--hidden", type=int, default=32, help="width of the two hidden layers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sync-bn", nargs="?", const="bnref", choices=["bnref", "torch"],
                        help="synchronise BatchNorm statistics across processes: bnref.SyncBatchNorm "
                             "(any backend; the default when the flag has no value) or torch.nn.SyncBatchNorm (GPU)")
    parser.add_argument("--data", help="a .pt file written by save_digits (default: load with scikit-learn)")
    parser.add_argument("--out", help="rank 0 writes the results here as JSON")
    return parser.parse_args(argv)


# ---------------------------------------------------------------- data and model
def load_digits(seed=0, test_fraction=0.25):
    """scikit-learn의 digits(8×8 이미지 1,797장)를 섞어 나누고, 학습 데이터의 평균과 표준편차로
    픽셀마다 정규화합니다. float64 텐서 네 개를 딕셔너리로 돌려줍니다."""
    from sklearn.datasets import load_digits as sklearn_digits

    x, y = sklearn_digits(return_X_y=True)
    x, y = torch.tensor(x, dtype=torch.float64), torch.tensor(y)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    test, train = order[: int(len(y) * test_fraction)], order[int(len(y) * test_fraction):]
    mean, std = x[train].mean(0), x[train].std(0, correction=0)
    std = torch.where(std > 0, std, torch.ones_like(std))  # 늘 0인 가장자리 픽셀
    x = (x - mean) / std
    return {"x_train": x[train], "y_train": y[train], "x_test": x[test], "y_test": y[test]}


def save_digits(path, seed=0):
    """데이터를 한 번 만들어 파일로 둡니다. ``--data``로 넘기면 프로세스마다 scikit-learn을 불러오지 않습니다."""
    torch.save(load_digits(seed), path)


def make_model(hidden=32):
    """64 → hidden → hidden → 10의 다층 퍼셉트론(MLP). 은닉층마다 Linear → BatchNorm1d → ReLU."""
    # BN 앞의 Linear에는 편향을 두지 않습니다. BN이 평균을 빼면서 지워 버리기 때문입니다.
    return nn.Sequential(
        nn.Linear(64, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
        nn.Linear(hidden, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
        nn.Linear(hidden, 10),
    )


# ---------------------------------------------------------------- joining the process group
def init_distributed():
    """torchrun이 띄운 프로세스면 프로세스 그룹에 들어갑니다. ``(rank, world_size, device)``를 돌려줍니다."""
    if "RANK" not in os.environ:  # torchrun 없이 `python -m`으로 실행한 경우: 프로세스 하나
        return 0, 1, torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if torch.cuda.is_available():
        local_rank = int(os.environ["LOCAL_RANK"])  # 이 기계 안에서의 번호 = 이 프로세스가 쓸 GPU
        torch.cuda.set_device(local_rank)
        device, backend = torch.device("cuda", local_rank), "nccl"
    else:
        device, backend = torch.device("cpu"), "gloo"
    # 만날 곳(MASTER_ADDR, MASTER_PORT)과 RANK, WORLD_SIZE는 torchrun이 환경 변수로 넘겨줍니다.
    dist.init_process_group(backend)
    return dist.get_rank(), dist.get_world_size(), device


# ---------------------------------------------------------------- the distributed parts
def wrap_model(model, sync_bn, device):
    """BN 층을 (원하면) SyncBatchNorm으로 바꾸고, 프로세스 그룹이 있으면 DDP로 감쌉니다."""
    if sync_bn == "bnref":
        model = bnref.SyncBatchNorm.convert_sync_batchnorm(model)  # CPU(gloo)에서도 돕니다
    elif sync_bn == "torch":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)  # torch의 것은 GPU 전용
    if not dist.is_initialized():
        return model, model
    # DDP는 역전파 중에 파라미터 기울기를 프로세스마다 W로 나눈 뒤 all_reduce로 더하고(곧 평균),
    # 기본값(broadcast_buffers=True)으로 순전파마다 랭크 0의 버퍼(BN의 이동 통계)를 나머지에 복사합니다.
    ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    return model, ddp


def make_loader(x, y, per_process, world, rank, seed):
    """이 프로세스의 몫만 ``per_process``개씩 내놓는 DataLoader와 그 sampler."""
    dataset = TensorDataset(x, y)
    # 모든 프로세스가 같은 시드로 같은 순서를 만들고, 랭크마다 W칸씩 건너뛰며 자기 몫을 가져갑니다.
    # drop_last: 모든 프로세스가 같은 수의 스텝을 돌도록 남는 샘플은 버립니다.
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=True)
    return DataLoader(dataset, batch_size=per_process, sampler=sampler, drop_last=True), sampler


def train_step(net, optimizer, x, y):
    """순전파, 역전파, 갱신 한 번. 이 프로세스 몫의 (평균 손실, 맞힌 개수)를 돌려줍니다."""
    logits = net(x)
    loss = nn.functional.cross_entropy(logits, y)  # 이 프로세스가 받은 샘플들의 평균
    optimizer.zero_grad()
    loss.backward()  # DDP: 여기서 모든 프로세스의 기울기 평균이 각자의 .grad에 들어갑니다
    optimizer.step()  # 모두 같은 기울기로 갱신하므로 파라미터는 계속 같습니다
    return loss.detach(), (logits.argmax(1) == y).sum().to(loss.dtype)


@torch.no_grad()
def evaluate(model, x, y):
    """평가 모드(이동 통계로 정규화)에서 (손실, 정확도)."""
    model.eval()
    logits = model(x)
    model.train()
    return nn.functional.cross_entropy(logits, y).item(), (logits.argmax(1) == y).double().mean().item()


# ---------------------------------------------------------------- training
def train(args, rank, world, device):
    """학습하고 결과를 딕셔너리로 돌려줍니다. 에폭마다의 값과 기록은 랭크 0이 냅니다."""
    if args.batch_size % world:
        raise ValueError(f"--batch-size {args.batch_size} is not divisible by the world size {world}")
    per_process = args.batch_size // world
    data = torch.load(args.data, weights_only=True) if args.data else load_digits(args.seed)

    torch.manual_seed(args.seed)  # 모든 프로세스가 같은 초기 가중치 (DDP도 랭크 0의 것을 모두에게 복사합니다)
    model, net = wrap_model(make_model(args.hidden).to(device, torch.float64), args.sync_bn, device)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr)
    loader, sampler = make_loader(data["x_train"], data["y_train"], per_process, world, rank, args.seed)

    if rank == 0:
        backend = dist.get_backend() if dist.is_initialized() else "프로세스 그룹 없음"
        bn = {None: "보통의 BN", "bnref": "bnref.SyncBatchNorm", "torch": "torch.nn.SyncBatchNorm"}[args.sync_bn]
        print(f"프로세스 {world}개 ({backend}), 전역 배치 {args.batch_size} = 프로세스마다 {per_process}개, {bn}",
              flush=True)

    result = {"world_size": world, "batch_size": args.batch_size, "per_process_batch": per_process,
              "sync_bn": args.sync_bn, "step_loss": [], "epochs": []}
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # 에폭마다 다른 순서 (빠뜨리면 모든 에폭이 같은 순서)
        losses, correct = [], 0.0
        for x, y in loader:
            loss, hits = train_step(net, optimizer, x.to(device), y.to(device))
            # 기록용: 손실과 맞힌 개수를 모든 프로세스에 대해 더합니다. 손실의 합 / W = 전역 배치의 손실.
            both = torch.stack([loss, hits])
            if dist.is_initialized():
                dist.all_reduce(both)
            losses.append(both[0].item() / world)
            correct += both[1].item()
        result["step_loss"] += losses
        if rank == 0:
            test_loss, test_acc = evaluate(model, data["x_test"].to(device), data["y_test"].to(device))
            train_loss, train_acc = sum(losses) / len(losses), correct / (len(losses) * args.batch_size)
            result["epochs"].append({"train_loss": train_loss, "train_acc": train_acc,
                                     "test_loss": test_loss, "test_acc": test_acc})
            print(f"에폭 {epoch + 1}/{args.epochs}: 학습 손실 {train_loss:.4f}, 학습 정확도 {train_acc:.4f}, "
                  f"테스트 손실 {test_loss:.4f}, 테스트 정확도 {test_acc:.4f}", flush=True)

    # 학습이 끝난 파라미터와 이동 통계 (DDP가 감싼 안쪽 모델의 것). 다른 실행과 비교하는 데 씁니다.
    state = {name: t.detach().cpu().double() for name, t in model.state_dict().items() if t.is_floating_point()}
    digest = hashlib.sha256(b"".join(t.numpy().tobytes() for t in state.values())).hexdigest()
    result.update(state={name: t.flatten().tolist() for name, t in state.items()}, state_sha256=digest)
    return result


@record  # 한 프로세스가 실패하면 torchrun이 그 랭크와 traceback을 "Root Cause"로 모아 보여 줍니다
def main(argv=None):
    args = parse_args(argv)
    rank, world, device = init_distributed()
    result = train(args, rank, world, device)
    if rank == 0 and args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f)
    if dist.is_initialized():
        dist.destroy_process_group()
        # torch 2.13의 경쟁 조건(race condition)을 피합니다. DDP로 감싼 뒤에는 destroy_process_group이
        # gloo의 작업 스레드를 멈추지 못합니다(DDP가 프로세스 그룹을 계속 붙잡음). 그 스레드가 마지막 통신의
        # 텐서를 놓는 일이 파이썬의 종료 정리보다 늦으면 프로세스가 SIGABRT로 죽습니다("terminate called
        # without an active exception"; 2코어에 프로세스 12개일 때 torchrun 실행 약 30번에 한 번).
        # 결과는 이미 썼으므로 종료 정리를 건너뛰고 바로 끝냅니다.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
