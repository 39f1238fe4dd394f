#!/usr/bin/python3
"""Computes every primer op case independently with PyTorch in float64 and writes, per case, the forward
output and the gradients of sum(output * weights) for random weights, to a JSON file that
tests/unit/reference_test.cpp checks the C++ ops against. The cases and their inputs come from the C++
side's one list (primer-op-cases writes them; each op slice registers its own), so every case that the
gradient check and the CUDA parity test run is checked here too; this file only knows how PyTorch
computes each kind of op.

Usage: /usr/bin/python3 op_references.py CASES.json OUTPUT.json  (Debian's python3-torch)
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(20261123)


def decode(encoded, dtype):
    return torch.tensor(encoded["data"], dtype=dtype).reshape(encoded["shape"])


def encode(tensor):
    return {"shape": list(tensor.shape), "data": tensor.detach().reshape(-1).tolist()}


def reference(case):
    """Runs the case's function on its inputs; records output and gradients w.r.t. every float input."""
    leaves = {key: decode(value, torch.float64).requires_grad_(True) for key, value in case["inputs"].items()}
    indices = {key: decode(value, torch.int32) for key, value in case["indices"].items()}
    output = FUNCTIONS[case["reference"]](**leaves, **indices, **case["params"])
    weights = torch.randn(output.shape, dtype=torch.float64)
    (output * weights).sum().backward()
    return {
        "name": case["name"],
        "weights": encode(weights),
        "output": encode(output),
        "grads": {key: encode(leaf.grad) for key, leaf in leaves.items()},
    }


def causal_dconv(x, weight):
    # A framework convolution with the kernel flipped (tap 0 is the current position) and the right
    # padding cropped: independent of primer's shift-and-add formulation.
    batch, time, channels = x.shape
    kernel = weight.flip(0).t().unsqueeze(1)  # [C, 1, 3]
    y = F.conv1d(x.transpose(1, 2), kernel, padding=2, groups=channels)[..., :time]
    return y.transpose(1, 2)


def attention(q, k, v, scale, bias=None):
    scores = torch.einsum("bihd,bjhd->bhij", q, k) * scale
    if bias is not None:
        scores = scores + bias
    queries, keys = q.shape[1], k.shape[1]
    # Queries are the last positions of the keys' span.
    mask = torch.ones(queries, keys, dtype=torch.bool).triu(1 + keys - queries)
    probabilities = scores.masked_fill(mask, float("-inf")).softmax(-1)
    return torch.einsum("bhij,bjhd->bihd", probabilities, v)


def attention_relative_bias(q, k, v, table, distance_buckets, scale):
    queries, keys = q.shape[1], k.shape[1]
    distance = (keys - queries) + torch.arange(queries)[:, None] - torch.arange(keys)[None, :]
    # [Tq, Tk, H] -> [H, Tq, Tk]; the masked entries (negative distances) get a value the mask discards.
    bias = table[distance_buckets.long()[distance.clamp(min=0)]].permute(2, 0, 1)
    return attention(q, k, v, scale, bias)


def convolved_heads(x, taps):
    batch, time, heads, dim = x.shape
    return causal_dconv(x.reshape(batch, time, heads * dim), taps).reshape(x.shape)


def dconv_attention(q, k, v, q_taps, k_taps, v_taps, scale):
    return attention(convolved_heads(q, q_taps), convolved_heads(k, k_taps), convolved_heads(v, v_taps), scale)


def dconv_attention_bias(q, k, v, q_taps, k_taps, v_taps, table, distance_buckets, scale):
    return attention_relative_bias(convolved_heads(q, q_taps), convolved_heads(k, k_taps),
                                   convolved_heads(v, v_taps), table, distance_buckets, scale)


def cross_entropy(logits, targets, z_loss):
    counted = targets >= 0
    lse = logits.logsumexp(-1)
    z_term = (z_loss * lse.square())[counted].mean()
    # PyTorch's own cross-entropy for the main term; the z-loss term added as Mesh-TF defines it.
    return (F.cross_entropy(logits, targets.long(), ignore_index=-1) + z_term).reshape(1)


def linear_cross_entropy(x, weight, targets, z_loss):
    return cross_entropy(F.linear(x, weight), targets, z_loss)


def rms_norm(x, gamma, eps):
    return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps) * gamma


def residual_rms_norm(x, residual, gamma, eps):
    total = x + residual
    return rms_norm(total, gamma, eps) + 0.5 * total


def rotary(x, offset, base):
    # Complex rotation of the pairs (x[i], x[i + D/2]): an independent formulation of the same map.
    batch, time, heads, dim = x.shape
    half = dim // 2
    angles = (torch.arange(time, dtype=torch.float64) + offset)[:, None] * base ** (
        -2.0 * torch.arange(half, dtype=torch.float64) / dim)
    rotation = torch.polar(torch.ones_like(angles), angles)[None, :, None, :]
    turned = torch.complex(x[..., :half], x[..., half:]) * rotation
    return torch.cat([turned.real, turned.imag], dim=-1)


FUNCTIONS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "scale": lambda a, factor: a * factor,
    "mean": lambda a: a.mean().reshape(1),
    "reshape": lambda x, shape: x.reshape(shape),
    "transpose": lambda x, dim0, dim1: x.transpose(dim0, dim1),
    "permute": lambda x, order: x.permute(order),
    "matmul": lambda a, b: a @ b,
    "linear": lambda x, weight, bias: F.linear(x, weight, bias),
    "linear_without_bias": lambda x, weight: F.linear(x, weight),
    "linear_activation": lambda x, weight, bias, activation: FUNCTIONS[activation](F.linear(x, weight, bias)),
    "embedding": lambda table, ids: F.embedding(ids.long(), table),
    "layer_norm": lambda x, gamma, beta, eps: F.layer_norm(x, (x.shape[-1],), gamma, beta, eps),
    "layer_norm_without_beta": lambda x, gamma, eps: F.layer_norm(x, (x.shape[-1],), gamma, None, eps),
    "rms_norm": rms_norm,
    "residual_rms_norm": residual_rms_norm,
    "relu": lambda x: F.relu(x),
    "squared_relu": lambda x: F.relu(x).square(),
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": lambda x: F.silu(x),
    "swiglu": lambda gate, up: F.silu(gate) * up,
    "causal_dconv": causal_dconv,
    "rotary": rotary,
    "attention": lambda q, k, v, scale: attention(q, k, v, scale),
    "attention_bias": attention_relative_bias,
    "dconv_attention": dconv_attention,
    "dconv_attention_bias": dconv_attention_bias,
    "cross_entropy": cross_entropy,
    "linear_cross_entropy": linear_cross_entropy,
}


def main():
    with open(sys.argv[1]) as cases_file:
        cases = json.load(cases_file)["cases"]
    references = [reference(case) for case in cases]
    with open(sys.argv[2], "w") as out:
        json.dump({"torch_version": torch.__version__, "cases": references}, out)
    print(f"wrote {len(references)} op references (PyTorch {torch.__version__}) to {sys.argv[2]}")


if __name__ == "__main__":
    main()
