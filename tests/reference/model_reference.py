#!/usr/bin/python3
"""An independent PyTorch implementation of primer's five model variants, written from primer-spec.md,
used by tests/unit/model_parity_test.cpp. It shares no code with the C++ implementation: its own
safetensors reader and writer, shift-and-add depthwise convolution, rotate-half rotary embeddings,
explicit LayerNorm/RMSNorm arithmetic, T5 buckets computed the way Mesh-TF does.

Usage: /usr/bin/python3 model_reference.py MANIFEST.json
The manifest lists cases {config, weights, batch, output}; for each, the model runs in float64 and
writes logits, loss and the gradient of every parameter ("grad.<name>") to `output` (safetensors).
"""
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    start = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = bytearray(blob[start + begin:start + end])
        tensors[name] = torch.frombuffer(raw, dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"]).clone()
    return tensors


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        raw = tensor.detach().to(torch.float64).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F64", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


# What each variant name means (primer-spec.md sections 1 and 2): the C++ side sends only the name.
VARIANTS = {
    "vanilla": {"feed_forward": "relu", "norm": "layer_norm", "norm_placement": "pre", "dconv": "none"},
    "gelu": {"feed_forward": "gelu", "norm": "layer_norm", "norm_placement": "pre", "dconv": "none"},
    "transformer++": {"feed_forward": "swiglu", "norm": "rms_norm", "norm_placement": "pre", "dconv": "none"},
    "primer_ez": {"feed_forward": "squared_relu", "norm": "layer_norm", "norm_placement": "pre",
                  "dconv": "separate"},
    "primer": {"feed_forward": "squared_relu", "norm": "layer_norm", "norm_placement": "primer",
               "dconv": "shared_qk"},
}


class Model:
    def __init__(self, config, weights):
        # Mesh-TF multiplies the final hidden state by d_model^-0.5 only when the softmax is the embedding.
        self.c = {**VARIANTS[config["variant"]], "scale_logits": config["tie_embeddings"], **config}
        self.w = {name: value.to(torch.float64).requires_grad_(True) for name, value in weights.items()}

    def norm(self, x, prefix):
        eps = self.c["norm_eps"]
        if self.c["norm"] == "layer_norm":
            mean = x.mean(-1, keepdim=True)
            variance = ((x - mean) ** 2).mean(-1, keepdim=True)
            return (x - mean) / torch.sqrt(variance + eps) * self.w[prefix + ".weight"] + self.w[prefix + ".bias"]
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * self.w[prefix + ".weight"]

    def linear(self, x, prefix):
        y = x @ self.w[prefix + ".weight"].t()
        bias = self.w.get(prefix + ".bias")
        return y if bias is None else y + bias

    @staticmethod
    def dconv(x, weight):
        # y[t] = w0 x[t] + w1 x[t-1] + w2 x[t-2], zeros before the start: shifts with zero fill.
        previous = F.pad(x, (0, 0, 1, 0))[:, :-1]
        before_previous = F.pad(x, (0, 0, 2, 0))[:, :-2]
        return weight[0] * x + weight[1] * previous + weight[2] * before_previous

    def bucket(self, distance):
        buckets, max_distance = self.c["relative_buckets"], self.c["relative_max_distance"]
        n = max(distance, 0)
        max_exact = buckets // 2
        if n < max_exact:
            return n
        scaled = torch.log(torch.tensor(n / max_exact, dtype=torch.float32)) / torch.log(
            torch.tensor(max_distance / max_exact, dtype=torch.float32)) * (buckets - max_exact)
        return min(max_exact + int(scaled.item()), buckets - 1)

    def relative_bias(self, time):
        ids = torch.tensor([[self.bucket(q - k) for k in range(time)] for q in range(time)])
        return self.w["relative_bias.weight"][ids].permute(2, 0, 1)  # [H, T, T]

    def rotary(self, x):
        time, dim = x.shape[1], x.shape[3]
        half = dim // 2
        inverse_frequency = self.c["rotary_base"] ** (-torch.arange(half, dtype=torch.float64) * 2.0 / dim)
        angles = torch.arange(time, dtype=torch.float64)[:, None] * inverse_frequency[None, :]
        cos = torch.cat([angles.cos(), angles.cos()], -1)[None, :, None, :]
        sin = torch.cat([angles.sin(), angles.sin()], -1)[None, :, None, :]
        rotated_half = torch.cat([-x[..., half:], x[..., :half]], -1)
        return x * cos + rotated_half * sin

    def attention(self, x, prefix, bias):
        c = self.c
        batch, time, _ = x.shape
        if c["dconv"] == "shared_qk":
            k = self.dconv(self.linear(x, prefix + ".qk_proj"), self.w[prefix + ".qk_dconv.weight"])
            q = self.linear(k, prefix + ".q_mix")
        else:
            q = self.linear(x, prefix + ".q_proj")
            k = self.linear(x, prefix + ".k_proj")
            if c["dconv"] == "separate":
                q = self.dconv(q, self.w[prefix + ".q_dconv.weight"])
                k = self.dconv(k, self.w[prefix + ".k_dconv.weight"])
        v = self.linear(x, prefix + ".v_proj")
        if c["dconv"] != "none":
            v = self.dconv(v, self.w[prefix + ".v_dconv.weight"])
        heads = lambda t: t.reshape(batch, time, c["num_heads"], c["head_dim"])
        q, k, v = heads(q), heads(k), heads(v)
        if c["position"] == "rotary":
            q, k = self.rotary(q), self.rotary(k)
        scale = 1.0 if c["fold_attention_scale"] else 1.0 / math.sqrt(c["head_dim"])
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) * scale
        if bias is not None:
            scores = scores + bias
        future = torch.ones(time, time, dtype=torch.bool).triu(1)
        probabilities = scores.masked_fill(future, float("-inf")).softmax(-1)
        out = torch.einsum("bhqk,bkhd->bqhd", probabilities, v).reshape(batch, time, -1)
        return self.linear(out, prefix + ".o_proj")

    def feed_forward(self, x, prefix):
        kind = self.c["feed_forward"]
        if kind == "swiglu":
            gate = self.linear(x, prefix + ".gate_proj")
            return self.linear(gate * torch.sigmoid(gate) * self.linear(x, prefix + ".up_proj"), prefix + ".out_proj")
        hidden = self.linear(x, prefix + ".in_proj")
        if kind == "relu":
            hidden = torch.relu(hidden)
        elif kind == "gelu":
            hidden = 0.5 * hidden * (1 + torch.tanh(math.sqrt(2 / math.pi) * (hidden + 0.044715 * hidden ** 3)))
        else:
            hidden = torch.relu(hidden) ** 2
        return self.linear(hidden, prefix + ".out_proj")

    def logits(self, ids):
        c = self.c
        batch, time = ids.shape
        x = self.w["embedding.weight"][ids]
        if c["position"] == "learned":
            x = x + self.w["position_embedding.weight"][:time][None]
        bias = self.relative_bias(time) if c["position"] == "t5_bias" else None
        for layer in range(c["num_layers"]):
            p = f"layers.{layer}"
            x = x + self.attention(self.norm(x, p + ".attention_norm"), p + ".attention", bias)
            if c["norm_placement"] == "pre":
                x = x + self.feed_forward(self.norm(x, p + ".ffn_norm"), p + ".ffn")
            else:  # Primer: the feed-forward branch is normalised after, not before
                x = x + self.norm(self.feed_forward(x, p + ".ffn"), p + ".ffn_norm")
        x = self.norm(x, "final_norm")
        if c["scale_logits"]:
            x = x * c["d_model"] ** -0.5
        head = self.w["embedding.weight"] if c["tie_embeddings"] else self.w["lm_head.weight"]
        return x.reshape(batch * time, -1) @ head.t()


def run(case):
    config = case["config"]
    model = Model(config, read_safetensors(case["weights"]))
    batch = read_safetensors(case["batch"])
    ids, targets = batch["ids"].long(), batch["targets"].long().reshape(-1)
    logits = model.logits(ids)
    lse = logits.logsumexp(-1)
    loss = (lse - logits.gather(1, targets[:, None])[:, 0]).mean() + case["z_loss"] * (lse ** 2).mean()
    loss.backward()
    outputs = {"logits": logits, "loss": loss.reshape(1)}
    outputs.update({"grad." + name: weight.grad for name, weight in model.w.items()})
    write_safetensors(case["output"], outputs)


def main():
    with open(sys.argv[1]) as f:
        manifest = json.load(f)
    for case in manifest["cases"]:
        run(case)
    print(f"model_reference: {len(manifest['cases'])} cases (PyTorch {torch.__version__})")


if __name__ == "__main__":
    main()
