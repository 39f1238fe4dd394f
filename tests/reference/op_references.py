#!/usr/bin/python3
"""Computes every primer op independently with PyTorch in float64 and writes, per case, the inputs, the
forward output, and the gradients of sum(output * weights) for random weights, to a JSON file that
tests/unit/reference_test.cpp checks the C++ ops against.

Usage: /usr/bin/python3 op_references.py OUTPUT.json  (Debian's python3-torch)
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(20261123)


def randn(*shape, scale=1.0):
    return torch.randn(*shape, dtype=torch.float64) * scale


def encode(tensor):
    return {"shape": list(tensor.shape), "data": tensor.detach().reshape(-1).tolist()}


def case(op, inputs, ints=None, params=None, name=None):
    """Runs op(**inputs, **ints, **params); records output and gradients w.r.t. every float input."""
    leaves = {key: value.clone().requires_grad_(True) for key, value in inputs.items()}
    ints = ints or {}
    params = params or {}
    output = FUNCTIONS[op](**leaves, **ints, **params)
    weights = torch.randn(output.shape, dtype=torch.float64)
    (output * weights).sum().backward()
    return {
        "name": name or op,
        "op": op,
        "params": params,
        "inputs": {key: encode(value) for key, value in inputs.items()},
        "ints": {key: encode(value) for key, value in ints.items()},
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


def cross_entropy(logits, targets, z_loss):
    counted = targets >= 0
    lse = logits.logsumexp(-1)
    z_term = (z_loss * lse.square())[counted].mean()
    # PyTorch's own cross-entropy for the main term; the z-loss term added as Mesh-TF defines it.
    return (F.cross_entropy(logits, targets.long(), ignore_index=-1) + z_term).reshape(1)


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
    "matmul": lambda a, b: a @ b,
    "linear": lambda x, weight, bias: F.linear(x, weight, bias),
    "embedding": lambda table, ids: F.embedding(ids.long(), table),
    "layer_norm": lambda x, gamma, beta, eps: F.layer_norm(x, (x.shape[-1],), gamma, beta, eps),
    "rms_norm": lambda x, gamma, eps: x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps) * gamma,
    "relu": lambda x: F.relu(x),
    "squared_relu": lambda x: F.relu(x).square(),
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "silu": lambda x: F.silu(x),
    "swiglu": lambda gate, up: F.silu(gate) * up,
    "causal_dconv": causal_dconv,
    "rotary": rotary,
    "attention": lambda q, k, v, scale: attention(q, k, v, scale),
    "attention_bias": lambda q, k, v, bias, scale: attention(q, k, v, scale, bias),
    "cross_entropy": cross_entropy,
}


def away_from_zero(x, margin=1e-3):
    return torch.where(x.abs() < margin, x.sign() * margin + x, x)


def main():
    qkv = (2, 9, 3, 5)
    cases = [
        case("matmul", {"a": randn(5, 7), "b": randn(7, 3)}, name="matmul 2d"),
        case("matmul", {"a": randn(3, 5, 7), "b": randn(3, 7, 3)}, name="matmul batched"),
        case("linear", {"x": randn(2, 3, 7), "weight": randn(5, 7), "bias": randn(5)}),
        case("embedding", {"table": randn(11, 6)}, ints={"ids": torch.tensor([[1, 4, 4, 10, 0], [3, 3, 3, 7, 9]])}),
        case("layer_norm", {"x": randn(3, 4, 13, scale=3.0), "gamma": randn(13), "beta": randn(13)},
             params={"eps": 1e-6}),
        case("rms_norm", {"x": randn(3, 4, 13, scale=3.0), "gamma": randn(13)}, params={"eps": 1e-6}),
        case("relu", {"x": away_from_zero(randn(4, 9))}),
        case("squared_relu", {"x": away_from_zero(randn(4, 9))}),
        case("gelu_tanh", {"x": randn(4, 9, scale=2.0)}),
        case("silu", {"x": randn(4, 9, scale=2.0)}),
        case("swiglu", {"gate": randn(4, 9, scale=2.0), "up": randn(4, 9)}),
        case("causal_dconv", {"x": randn(2, 7, 5), "weight": randn(3, 5)}),
        case("rotary", {"x": randn(2, 7, 3, 6)}, params={"offset": 5, "base": 10000.0}),
        case("attention", {"q": randn(*qkv), "k": randn(*qkv), "v": randn(*qkv)}, params={"scale": 0.45}),
        case("attention_bias", {"q": randn(*qkv), "k": randn(*qkv), "v": randn(*qkv), "bias": randn(3, 9, 9)},
             params={"scale": 1.0}),
        case("attention_bias", {"q": randn(2, 4, 3, 5), "k": randn(*qkv), "v": randn(*qkv), "bias": randn(3, 4, 9)},
             params={"scale": 0.8}, name="attention with fewer queries than keys"),
        case("cross_entropy", {"logits": randn(7, 13, scale=3.0)},
             ints={"targets": torch.tensor([0, 12, -1, 5, 5, 3, -1])}, params={"z_loss": 1e-4}),
    ]
    with open(sys.argv[1], "w") as out:
        json.dump({"torch_version": torch.__version__, "cases": cases}, out)
    print(f"wrote {len(cases)} op references (PyTorch {torch.__version__}) to {sys.argv[1]}")


if __name__ == "__main__":
    main()
