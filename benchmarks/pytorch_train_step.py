#!/usr/bin/python3
"""PyTorch's training throughput for a model shape primer-train also runs (benchmarks/train_throughput.sh
measures both in one run): AdamW, T5 relative bias, tied embeddings, on torch.set_num_threads(N), in fp32
or with bf16 autocast (torch.autocast("cpu", torch.bfloat16): matmuls in bf16 through oneDNN).

Usage: /usr/bin/python3 pytorch_train_step.py train VARIANT LAYERS D_MODEL HEADS D_FF VOCAB SEQ BATCH STEPS
                                                    THREADS PRECISION
       prints "tokens_per_second <value>" (the median step after two warm-up steps);
       /usr/bin/python3 pytorch_train_step.py gemm THREADS
       prints "gemm_gflops <value>": the best of five 1024^3 f32 products (the BLAS PyTorch runs them on)."""
import math
import statistics
import sys
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
        scores = q @ k.transpose(-1, -2) + bias
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)
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
        self.scale = d ** -0.5

    def forward(self, ids, targets):
        bias = self.relative(self.buckets).permute(2, 0, 1)
        x = self.embedding(ids)
        for block in self.blocks:
            x = block(x, bias)
        logits = (self.final_norm(x) * self.scale) @ self.embedding.weight.t()
        lse = logits.logsumexp(-1)
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1)) + 1e-4 * lse.square().mean()


def gemm(threads):
    torch.set_num_threads(threads)
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    print(f"gemm_gflops {2 * 1024 ** 3 / min(times[2:]) / 1e9:.1f}")


def train():
    variant = sys.argv[2]
    layers, d, heads, d_ff, vocab, seq, batch, steps, threads = map(int, sys.argv[3:12])
    precision = sys.argv[12]
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Model(variant, layers, d, heads, d_ff, vocab, seq)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    ids = torch.randint(0, vocab, (batch, seq))
    targets = torch.randint(0, vocab, (batch, seq))
    times = []
    for step in range(steps):
        start = time.perf_counter()
        with autocast:
            loss = model(ids, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step >= 2:
            times.append(time.perf_counter() - start)
    print(f"tokens_per_second {batch * seq / statistics.median(times):.1f}")


if __name__ == "__main__":
    gemm(int(sys.argv[2])) if sys.argv[1] == "gemm" else train()
