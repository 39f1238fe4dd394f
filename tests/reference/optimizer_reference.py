#!/usr/bin/python3
"""Optimizer references for tests/unit/train_test.cpp: PyTorch's own torch.optim.AdamW, and an
Adafactor written here from Mesh-TF's (beta1 0; second moments factored only when the two largest
dimensions are both >= 128, `min_dim_size_to_factor`; decay 1 - t^-0.8, update clipping, relative step),
both in float64. As in the official Primer code, where a depthwise convolution is three variables
conv_0..2, each row of a "*_dconv.weight" is its own Adafactor parameter. Weight decay falls on dense
weights only: not on embeddings, the position-bias table, norms, biases or convolution taps.

Usage: /usr/bin/python3 optimizer_reference.py INPUT.safetensors OUTPUT.safetensors
INPUT holds "param.<name>" (initial values), "grad.<k>.<name>" (the gradient at step k = 1..steps) and
the hyperparameters in "hyper.*"; OUTPUT holds "adamw.<name>.<k>" and "adafactor.<name>.<k>"."""
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from model_reference import read_safetensors, write_safetensors  # noqa: E402


MIN_DIM_SIZE_TO_FACTOR = 128


def is_taps(name):
    return name.endswith("_dconv.weight")


def decays(name, p):
    return p.dim() >= 2 and not is_taps(name) and "embedding" not in name and "relative_bias" not in name


def factored(p):
    return p.dim() >= 2 and sorted(p.shape)[-2] >= MIN_DIM_SIZE_TO_FACTOR


def adafactor(params, grads_at, steps, lr, decay_exponent, eps1, eps2, clip_threshold):
    # Adafactor's own parameters: whole tensors, or (name, tap) rows of a convolution.
    pieces = {}
    for name, p in params.items():
        if is_taps(name):
            for tap in range(p.shape[0]):
                pieces[(name, tap)] = p[tap]
        else:
            pieces[(name, None)] = p
    state = {key: None for key in pieces}
    history = {}
    for step in range(1, steps + 1):
        decay = 1.0 - step ** (-decay_exponent)
        for key, p in pieces.items():
            name, tap = key
            g = grads_at(name, step)
            if tap is not None:
                g = g[tap]
            g2 = g * g + eps1
            if factored(p):
                rows, cols = state[key] or (torch.zeros(p.shape[0], dtype=p.dtype), torch.zeros(p.shape[1], dtype=p.dtype))
                rows = decay * rows + (1 - decay) * g2.mean(dim=1)
                cols = decay * cols + (1 - decay) * g2.mean(dim=0)
                state[key] = (rows, cols)
                estimate = torch.outer(rows / rows.mean(), cols)
            else:
                v = state[key] if state[key] is not None else torch.zeros_like(p)
                v = decay * v + (1 - decay) * g2
                state[key] = v
                estimate = v
            update = g / estimate.sqrt()
            update = update / max(1.0, (update.square().mean().sqrt() / clip_threshold).item())
            scale = max(eps2, p.square().mean().sqrt().item())
            p -= lr * scale * update
        for name, p in params.items():
            history[f"adafactor.{name}.{step}"] = p.clone()
    return history


def main():
    data = read_safetensors(sys.argv[1])
    hyper = {key[len("hyper."):]: value.item() for key, value in data.items() if key.startswith("hyper.")}
    steps = int(hyper["steps"])
    names = [key[len("param."):] for key in data if key.startswith("param.")]
    grads_at = lambda name, step: data[f"grad.{step}.{name}"].double()
    outputs = {}

    params = {name: data["param." + name].double().clone().requires_grad_(True) for name in names}
    decayed = [params[n] for n in names if decays(n, params[n])]
    plain = [params[n] for n in names if not decays(n, params[n])]
    optimizer = torch.optim.AdamW(
        [{"params": decayed, "weight_decay": hyper["weight_decay"]}, {"params": plain, "weight_decay": 0.0}],
        lr=hyper["lr"], betas=(hyper["beta1"], hyper["beta2"]), eps=hyper["eps"])
    for step in range(1, steps + 1):
        for name in names:
            params[name].grad = grads_at(name, step).clone()
        optimizer.step()
        for name in names:
            outputs[f"adamw.{name}.{step}"] = params[name].detach().clone()

    with torch.no_grad():
        fresh = {name: data["param." + name].double().clone() for name in names}
        outputs.update(adafactor(fresh, grads_at, steps, hyper["lr"], 0.8, 1e-30, 1e-3, 1.0))
    write_safetensors(sys.argv[2], outputs)


if __name__ == "__main__":
    main()
