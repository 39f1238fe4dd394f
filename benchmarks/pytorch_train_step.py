#!/usr/bin/python3
"""PyTorch's training throughput on a model shape primer-train also runs, the baseline of
benchmarks/train_throughput.sh (CPU) and tools/gpu_check.sh (GPU): AdamW, T5 relative bias, tied
embeddings, fp32 or bf16 autocast. On the CPU (Debian's PyTorch 1.13) attention is written out with an
explicit mask; on CUDA it is scaled_dot_product_attention with the bias as its mask, AdamW is fused,
and --compile adds torch.compile.

Usage: pytorch_train_step.py gemm --threads N
         prints "gemm_gflops <value>": the best of five 1024^3 f32 products on the BLAS PyTorch uses;
       pytorch_train_step.py train --variant V --layers L --d-model D --heads H --d-ff F --vocab V --seq S
           --batch B --steps N [--threads N] [--precision fp32|bf16] [--device cpu|cuda] [--compile]
         prints "tokens_per_second <value>" (the median step after the warm-up steps) and, on CUDA,
         "peak_memory_gib <value>"."""
import argparse
import contextlib
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, variant, d, heads, d_ff):
        super().__init__()
        self.variant, self.heads = variant, heads
        norm = (lambda: RMSNorm(d)) if variant == "transformer++" else (lambda: nn.LayerNorm(d, eps=1e-6))
        self.attention_norm, self.ffn_norm = norm(), norm()
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.out = nn.Linear(d, d, bias=False)
        if variant == "primer_ez":
            self.dconv = nn.Parameter(torch.tensor([0.5, 0.5 / 3, 0.5 / 3])[:, None].repeat(1, 3 * d))
        if variant == "transformer++":
            self.gate, self.up = nn.Linear(d, d_ff), nn.Linear(d, d_ff)
        else:
            self.up = nn.Linear(d, d_ff)
        self.down = nn.Linear(d_ff, d)

    def forward(self, x, bias):
        b, t, d = x.shape
        qkv = self.qkv(self.attention_norm(x))
        if self.variant == "primer_ez":
            w = self.dconv
            qkv = w[0] * qkv + w[1] * F.pad(qkv, (0, 0, 1, 0))[:, :-1] + w[2] * F.pad(qkv, (0, 0, 2, 0))[:, :-2]
        q, k, v = qkv.view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        if hasattr(F, "scaled_dot_product_attention"):
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype), scale=1.0)
        else:
            scores = q @ k.transpose(-1, -2) + bias
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
            attended = scores.masked_fill(mask, float("-inf")).softmax(-1) @ v
        x = x + self.out(attended.transpose(1, 2).reshape(b, t, d))
        h = self.ffn_norm(x)
        if self.variant == "transformer++":
            h = F.silu(self.gate(h)) * self.up(h)
        elif self.variant == "primer_ez":
            h = F.relu(self.up(h)).square()
        else:
            h = F.relu(self.up(h))
        return x + self.down(h)


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + 1e-6) * self.weight


class Model(nn.Module):
    def __init__(self, variant, layers, d, heads, d_ff, vocab, seq):
        super().__init__()
        self.embedding = nn.Embedding(vocab, d)
        self.relative = nn.Embedding(32, heads)
        self.blocks = nn.ModuleList(Block(variant, d, heads, d_ff) for _ in range(layers))
        self.final_norm = RMSNorm(d) if variant == "transformer++" else nn.LayerNorm(d, eps=1e-6)
        distance = (torch.arange(seq)[:, None] - torch.arange(seq)[None, :]).clamp(min=0)
        large = 16 + (torch.log(distance.float().clamp(min=1) / 16) / math.log(128 / 16) * 16).long()
        self.register_buffer("buckets", torch.where(distance < 16, distance, large.clamp(max=31)))
        self.register_buffer("causal_mask", torch.ones(seq, seq, dtype=torch.bool).triu(1))
        self.scale = d ** -0.5

    def forward(self, ids, targets):
        bias = self.relative(self.buckets).permute(2, 0, 1)
        if hasattr(F, "scaled_dot_product_attention"):  # the causal mask goes into the bias
            bias = bias.masked_fill(self.causal_mask, float("-inf"))
        x = self.embedding(ids)
        for block in self.blocks:
            x = block(x, bias)
        logits = (self.final_norm(x) * self.scale) @ self.embedding.weight.t()
        lse = logits.logsumexp(-1)
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1)) + 1e-4 * lse.square().mean()


def gemm(args):
    torch.set_num_threads(args.threads)
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    print(f"gemm_gflops {2 * 1024 ** 3 / min(times[2:]) / 1e9:.1f}")


def train(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    model = Model(args.variant, args.layers, args.d_model, args.heads, args.d_ff, args.vocab, args.seq).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1, **({"fused": True} if cuda else {}))
    step_function = torch.compile(model) if args.compile else model
    ids = torch.randint(0, args.vocab, (args.batch, args.seq), device=device)
    targets = torch.randint(0, args.vocab, (args.batch, args.seq), device=device)
    autocast = (torch.autocast(device.type, dtype=torch.bfloat16) if args.precision == "bf16"
                else contextlib.nullcontext())
    warmup = 3 if args.compile else 2
    times = []
    for step in range(args.steps + warmup):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        with autocast:
            loss = step_function(ids, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.synchronize()
        if step >= warmup:
            times.append(time.perf_counter() - start)
    print(f"tokens_per_second {args.batch * args.seq / statistics.median(times):.1f}")
    if cuda:
        print(f"peak_memory_gib {torch.cuda.max_memory_allocated() / 2 ** 30:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    gemm_command = commands.add_parser("gemm")
    gemm_command.add_argument("--threads", type=int, required=True)
    train_command = commands.add_parser("train")
    for name in ("layers", "d-model", "heads", "d-ff", "vocab", "seq", "batch", "steps"):
        train_command.add_argument("--" + name, type=int, required=True)
    train_command.add_argument("--variant", required=True)
    train_command.add_argument("--threads", type=int, default=torch.get_num_threads())
    train_command.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    train_command.add_argument("--device", default="cpu")
    train_command.add_argument("--compile", action="store_true")
    args = parser.parse_args()
    gemm(args) if args.command == "gemm" else train(args)


if __name__ == "__main__":
    main()
